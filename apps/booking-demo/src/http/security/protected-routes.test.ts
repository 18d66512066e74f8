import { randomUUID } from 'node:crypto'
import { DEFAULT_QUEUE_PREFIX } from '@cachesaga/queue'
import { type Job, Queue, Worker } from 'bullmq'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hashManagementToken } from '../../bookings/booking-ownership.js'
import { mondayAhead } from '../../demo/scenario.js'
import { demoIds } from '../../seed/seed-demo-data.js'
import { type ApiStores, startApiStores } from '../../test-support/api-stores.js'
import { type BasicCredential, basicAuthorization } from './operator-credentials.js'
import { newWebhookSecret, signWebhook } from './webhook-signature.js'

// Each protected route without a credential, with a wrong one and with the right one, on one API instance.
let stores: ApiStores
let app: FastifyInstance
let redisUrl: string
beforeAll(async () => {
  stores = await startApiStores('protected_routes')
  app = await stores.server()
  redisUrl = (stores.redis as { url: string }).url
}, 60_000)
afterAll(() => stores?.stop(), 60_000)

/** The refusal in an answer: its code and facts are fields, and its message names no code. */
function refusal(answer: LightMyRequestResponse) {
  const { error } = answer.json() as {
    error: { code: string; message: string; details?: { reason?: string } }
  }
  expect(error.message).not.toMatch(/[A-Z]+_ERR_[A-Z_]+/)
  return { status: answer.statusCode, code: error.code, reason: error.details?.reason }
}

const as = (credential: BasicCredential) => ({ authorization: basicAuthorization(credential) })

describe('the operators’ routes (HTTP Basic)', () => {
  const routes = [
    '/admin',
    '/admin/cache/health',
    '/admin/metrics/history',
    '/admin/dashboard.js',
    '/admin/charts.js',
    '/admin/queues',
    '/admin/queues/api/queues',
  ]

  it.each(routes)('GET %s: 401 without a credential, with a challenge a browser answers', async (url) => {
    const answer = await app.inject({ url })
    expect(refusal(answer)).toEqual({ status: 401, code: 'BOOKING_ERR_UNAUTHORIZED', reason: 'missing' })
    expect(answer.headers['www-authenticate']).toBe('Basic realm="booking-demo operators", charset="UTF-8"')
  })

  it.each(routes)('GET %s: 401 with a wrong credential', async (url) => {
    const { operator, viewer } = stores.secrets
    const wrong = [
      { username: 'operator' as const, password: `${operator.password}x` },
      // The viewer's password does not open the operator's account, nor the other way round.
      { username: 'operator' as const, password: viewer.password },
      { username: 'viewer' as const, password: operator.password },
    ]
    for (const credential of wrong) {
      expect(refusal(await app.inject({ url, headers: as(credential) }))).toEqual({
        status: 401,
        code: 'BOOKING_ERR_UNAUTHORIZED',
        reason: 'wrong',
      })
    }
    // Another scheme is no credential of ours either.
    const bearer = await app.inject({ url, headers: { authorization: `Bearer ${operator.password}` } })
    expect(refusal(bearer)).toMatchObject({ status: 401, reason: 'wrong' })
  })

  it.each(routes)('GET %s: 200 for the operator and for the viewer', async (url) => {
    for (const credential of [stores.secrets.operator, stores.secrets.viewer]) {
      const answer = await app.inject({ url, headers: as(credential) })
      expect(answer.statusCode).toBe(200)
    }
  })

  it('answers the health JSON to a credential, and nothing of it without', async () => {
    const stranger = await app.inject({ url: '/admin/cache/health' })
    expect(stranger.body).not.toContain('hit_rate')
    const health = await app.inject({ url: '/admin/cache/health', headers: as(stores.secrets.viewer) })
    expect(health.json()).toMatchObject({ status: expect.any(String), cache: expect.any(Object) })
  })
})

describe('bull-board’s actions', () => {
  const queueName = 'external-sync'
  let queue: Queue
  let delayed: Job
  let failed: Job
  beforeAll(async () => {
    const connection = new Redis(redisUrl, { maxRetriesPerRequest: null })
    queue = new Queue(queueName, { connection, prefix: DEFAULT_QUEUE_PREFIX })
    // One job that failed (a worker of the test's own, gone again) and one delayed for an hour.
    const worker = new Worker(
      queueName,
      async () => {
        throw new Error('the calendar server said no')
      },
      { connection: new Redis(redisUrl, { maxRetriesPerRequest: null }), prefix: DEFAULT_QUEUE_PREFIX },
    )
    const settled = new Promise((resolve) => worker.once('failed', resolve))
    failed = await queue.add('sync', { calendarId: 'failing' }, { attempts: 1 })
    await settled
    await worker.close()
    delayed = await queue.add('sync', { calendarId: 'later' }, { delay: 3_600_000 })
  }, 30_000)
  afterAll(async () => {
    await queue?.obliterate({ force: true })
    await queue?.close()
  })

  const action = (url: string, credential?: BasicCredential) =>
    app.inject({ method: 'PUT', url, ...(credential && { headers: as(credential) }) })
  const base = `/admin/queues/api/queues/${queueName}`

  it('tells the viewer’s page every queue is read-only, and the operator’s that it is not', async () => {
    type Listing = { queues: { name: string; readOnlyMode: boolean }[] }
    const list = async (credential: BasicCredential) =>
      (
        (await app.inject({ url: '/admin/queues/api/queues', headers: as(credential) })).json() as Listing
      ).queues.map((entry) => entry.readOnlyMode)
    expect(await list(stores.secrets.viewer)).toEqual([true, true, true, true])
    expect(await list(stores.secrets.operator)).toEqual([false, false, false, false])
  })

  it('refuses retry, promote, clean and delete without a credential (401) and to the viewer (403), changing nothing', async () => {
    const actions = [
      `${base}/retry/failed`,
      `${base}/${failed.id}/retry`,
      `${base}/promote`,
      `${base}/${delayed.id}/promote`,
      `${base}/clean/failed`,
      `${base}/${failed.id}/clean`,
      `${base}/empty`,
    ]
    for (const url of actions) {
      expect(refusal(await action(url))).toMatchObject({ status: 401, code: 'BOOKING_ERR_UNAUTHORIZED' })
      expect(refusal(await action(url, stores.secrets.viewer))).toMatchObject({
        status: 403,
        code: 'BOOKING_ERR_FORBIDDEN',
      })
    }
    expect(await queue.getJobState(failed.id!)).toBe('failed')
    expect(await queue.getJobState(delayed.id!)).toBe('delayed')
  })

  it('lets the operator retry, promote, clean and delete', async () => {
    const { operator } = stores.secrets
    expect((await action(`${base}/${failed.id}/retry`, operator)).statusCode).toBeLessThan(300)
    expect(await queue.getJobState(failed.id!)).toBe('waiting')
    expect((await action(`${base}/${delayed.id}/promote`, operator)).statusCode).toBeLessThan(300)
    expect(await queue.getJobState(delayed.id!)).toBe('waiting')
    expect((await action(`${base}/${failed.id}/clean`, operator)).statusCode).toBeLessThan(300)
    expect(await queue.getJob(failed.id!)).toBeUndefined()
    // bull-board cleans what is older than 5 s.
    const later = await queue.add(
      'sync',
      { calendarId: 'later-still' },
      { delay: 3_600_000, timestamp: Date.now() - 60_000 },
    )
    expect((await action(`${base}/clean/delayed`, operator)).statusCode).toBeLessThan(300)
    expect(await queue.getJob(later.id!)).toBeUndefined()
  })
})

describe('the calendar webhook (signed)', () => {
  const url = '/webhooks/calendar'
  /** A delivery of `body` with these headers; the body goes as the exact bytes given. */
  const deliver = (body: string, headers: Record<string, string>) =>
    app.inject({
      method: 'POST',
      url,
      payload: body,
      headers: { 'content-type': 'application/json', ...headers },
    })
  const payload = () => JSON.stringify({ calendarId: `calendar-${randomUUID()}` })
  const queued = async () => {
    const stats = await app.inject({ url: '/admin/cache/health', headers: as(stores.secrets.operator) })
    return (stats.json() as { queues: Record<string, { waiting: number }> }).queues['external-sync']!.waiting
  }

  it('refuses a delivery without a signature, with a wrong one, tampered, or replayed after the window; queues nothing', async () => {
    const { webhookSecret } = stores.secrets
    const before = await queued()
    const body = payload()
    expect(refusal(await deliver(body, {}))).toEqual({
      status: 401,
      code: 'BOOKING_ERR_WEBHOOK_SIGNATURE',
      reason: 'missing',
    })
    // Signed with a secret that is not ours.
    expect(refusal(await deliver(body, signWebhook(newWebhookSecret(), body)))).toMatchObject({
      status: 401,
      reason: 'mismatch',
    })
    // Signed, then the body changed on the way: another calendar.
    const tampered = await deliver(payload(), signWebhook(webhookSecret, body))
    expect(refusal(tampered)).toMatchObject({ status: 401, reason: 'mismatch' })
    // A delivery captured ten minutes ago and sent again, signature and all.
    const tenMinutesAgo = Math.floor(Date.now() / 1_000) - 600
    const replayed = await deliver(body, signWebhook(webhookSecret, body, { timestamp: tenMinutesAgo }))
    expect(refusal(replayed)).toMatchObject({ status: 401, reason: 'outside-window' })
    expect(await queued()).toBe(before)
  })

  it('accepts a delivery signed with the shared secret and queues its sync', async () => {
    const before = await queued()
    const body = payload()
    const answer = await deliver(body, signWebhook(stores.secrets.webhookSecret, body))
    expect(answer.statusCode).toBe(202)
    expect(answer.json()).toMatchObject({ queue: 'external-sync', deduplicated: false })
    expect(await queued()).toBe(before + 1)
  })

  it('checks the signature before the body: a signed body that is not JSON is 400, an unsigned one 401', async () => {
    expect(refusal(await deliver('{not json', {}))).toMatchObject({ status: 401, reason: 'missing' })
    const signed = await deliver('{not json', signWebhook(stores.secrets.webhookSecret, '{not json'))
    expect(refusal(signed)).toMatchObject({ status: 400, code: 'BOOKING_ERR_INVALID_INPUT' })
  })
})

describe('a booking’s management token', () => {
  const date = mondayAhead(11)
  const ada = demoIds.staff.ada
  const treatment = demoIds.services.treatment
  /** The day's free slots as the day began (Ada's hours are Berlin's, so their UTC times move with the season). */
  let slots: string[] = []
  beforeAll(async () => {
    const day = await app.inject(`/availability?staffId=${ada}&serviceId=${treatment}&date=${date}`)
    slots = (day.json() as { slots: { startsAt: string }[] }).slots.map((slot) => slot.startsAt)
    expect(slots.length).toBeGreaterThanOrEqual(6)
  })
  const book = async (slot: number) => {
    const answer = await app.inject({
      method: 'POST',
      url: '/bookings',
      payload: {
        staffId: ada,
        serviceId: treatment,
        customerEmail: 'pat@example.com',
        startsAt: slots[slot],
      },
    })
    expect(answer.statusCode).toBe(201)
    const { booking, managementToken } = answer.json() as { booking: { id: string }; managementToken: string }
    return { id: booking.id, token: managementToken }
  }
  const change = (id: string, what: 'cancel' | 'reschedule', token?: string) =>
    app.inject({
      method: 'POST',
      url: `/bookings/${id}/${what}`,
      ...(token !== undefined && { headers: { authorization: `Bearer ${token}` } }),
      ...(what === 'reschedule' && { payload: { startsAt: slots[5] } }),
    })
  const slotOf = async (id: string) =>
    (
      await stores.db.pool.query<{ status: string; starts_at: Date }>(
        'SELECT status, starts_at FROM bookings WHERE id = $1',
        [id],
      )
    ).rows[0]

  it('is answered once with the booking and stored only as its SHA-256, in PostgreSQL and nowhere in Redis', async () => {
    const { id, token } = await book(0)
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/)
    const { rows } = await stores.db.pool.query<{ hash: string }>(
      `SELECT encode(management_token_hash, 'hex') AS hash FROM bookings WHERE id = $1`,
      [id],
    )
    expect(rows[0]!.hash).toBe(hashManagementToken(token))
    // The token itself is nowhere: not in the bookings, the captured changes, the outbox, or the saga store, where
    // the saga recorded its input (with the hash), its steps and its log.
    const { rows: found } = await stores.db.pool.query<{ n: string }>(
      `SELECT (SELECT count(*) FROM bookings b WHERE row_to_json(b)::text LIKE $1)
            + (SELECT count(*) FROM cachesaga.changes c WHERE row_to_json(c)::text LIKE $1)
            + (SELECT count(*) FROM cachesaga.outbox o WHERE row_to_json(o)::text LIKE $1)
            + (SELECT count(*) FROM cachesaga.sagas s WHERE row_to_json(s)::text LIKE $1)
            + (SELECT count(*) FROM cachesaga.saga_phases p WHERE row_to_json(p)::text LIKE $1)
            + (SELECT count(*) FROM cachesaga.saga_log l WHERE row_to_json(l)::text LIKE $1) AS n`,
      [`%${token}%`],
    )
    expect(Number(found[0]!.n)).toBe(0)
    const { rows: saga } = await stores.db.pool.query<{ input: string }>(
      'SELECT input::text FROM cachesaga.sagas WHERE saga_id = $1',
      [`booking:${id}`],
    )
    expect(saga[0]!.input).toContain(hashManagementToken(token))
    // Nor in Redis (the cache, the holds, the queues).
    expect(await redisValuesContaining(redisUrl, token)).toEqual([])
  })

  it.each(['cancel', 'reschedule'] as const)(
    '%s: 403 without the token, with a wrong one and with another booking’s; the booking stays as it was',
    async (what) => {
      const mine = await book(what === 'cancel' ? 1 : 3)
      const theirs = await book(what === 'cancel' ? 2 : 4)
      const before = await slotOf(mine.id)
      expect(refusal(await change(mine.id, what))).toEqual({
        status: 403,
        code: 'BOOKING_ERR_FORBIDDEN',
        reason: 'token-missing',
      })
      // Another booking's token, this one's with its last character changed, and one nobody was given.
      const altered = `${mine.token.slice(0, -1)}${mine.token.endsWith('A') ? 'B' : 'A'}`
      for (const token of [theirs.token, altered, randomUUID()]) {
        expect(refusal(await change(mine.id, what, token))).toEqual({
          status: 403,
          code: 'BOOKING_ERR_FORBIDDEN',
          reason: 'token-not-accepted',
        })
      }
      expect(await slotOf(mine.id)).toEqual(before)
      // A booking that does not exist answers the same, so the answer says nothing of which ids exist.
      expect(refusal(await change(randomUUID(), what, mine.token))).toEqual(
        refusal(await change(mine.id, what, theirs.token)),
      )
      const done = await change(mine.id, what, mine.token)
      expect(done.statusCode).toBe(200)
      expect(await slotOf(mine.id)).not.toEqual(before)
    },
  )
})

/** The keys of the Redis at `url` whose value (any type) contains `text`. */
async function redisValuesContaining(url: string, text: string): Promise<string[]> {
  const redis = new Redis(url)
  try {
    const keys = await redis.keys('*')
    const hits: string[] = []
    for (const key of keys) {
      const type = await redis.type(key)
      const value =
        type === 'string'
          ? await redis.get(key)
          : type === 'hash'
            ? await redis.hgetall(key)
            : type === 'list'
              ? await redis.lrange(key, 0, -1)
              : type === 'set'
                ? await redis.smembers(key)
                : type === 'zset'
                  ? await redis.zrange(key, 0, -1)
                  : type === 'stream'
                    ? await redis.xrange(key, '-', '+')
                    : null
      if (JSON.stringify(value).includes(text)) hits.push(key)
    }
    return hits
  } finally {
    redis.disconnect()
  }
}
