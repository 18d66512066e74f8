import { errorCode } from '@cachesaga/common'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { withRedisEnv } from '../../demo/process-stack.js'
import { mondayAhead } from '../../demo/scenario.js'
import { newStackSecrets, secretsEnv } from '../../demo/stack-secrets.js'
import { demoIds } from '../../seed/seed-demo-data.js'
import { type ApiStores, startApiStores } from '../../test-support/api-stores.js'
import { readApiConfig } from '../api-config.js'

const availability = `/availability?staffId=${demoIds.staff.ada}&serviceId=${demoIds.services.treatment}&date=${mondayAhead(12)}`
/** Small limits, so that a test reaches them. */
const LIMITS = { RATE_LIMIT_READS: '6', RATE_LIMIT_BOOKINGS: '2', RATE_LIMIT_WEBHOOKS: '2' }

/** The status of each answer, in order. */
const statuses = (answers: LightMyRequestResponse[]) => answers.map((answer) => answer.statusCode)

/** `count` reads from `address`, one after another, alternating between the instances. */
async function reads(instances: FastifyInstance[], count: number, address = '203.0.113.7') {
  const answers: LightMyRequestResponse[] = []
  for (let index = 0; index < count; index++) {
    answers.push(
      await instances[index % instances.length]!.inject({ url: availability, remoteAddress: address }),
    )
  }
  return answers
}

describe.each([
  ['one Redis', false],
  ['a 3-master Redis Cluster', true],
])('the rate limits on %s', (_, cluster) => {
  let stores: ApiStores
  let first: FastifyInstance
  let second: FastifyInstance
  beforeAll(async () => {
    stores = await startApiStores(cluster ? 'limits_cluster' : 'limits', { cluster })
    first = await stores.server(LIMITS)
    second = await stores.server(LIMITS)
  }, 90_000)
  afterAll(() => stores?.stop(), 60_000)

  it('hold across two API instances: one address gets the limit in all, not per instance', async () => {
    const answers = await reads([first, second], 8)
    expect(statuses(answers)).toEqual([200, 200, 200, 200, 200, 200, 429, 429])
    const refused = answers[6]!
    expect(refused.json()).toMatchObject({
      error: { code: 'BOOKING_ERR_RATE_LIMITED', details: { group: 'reads', limit: 6, windowMs: 60_000 } },
    })
    expect((refused.json() as { error: { message: string } }).error.message).not.toMatch(/BOOKING_ERR/)
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0)
    expect(refused.headers['x-ratelimit-limit']).toBe('6')
    // Each instance counts on its own connection, and both find the same count in Redis.
    expect(statuses(await reads([second], 1))).toEqual([429])
    expect(statuses(await reads([first], 1))).toEqual([429])
  })

  it('count each address on its own, and each route group in a budget of its own', async () => {
    expect(statuses(await reads([first, second], 2, '198.51.100.9'))).toEqual([200, 200])
    // The address that used up its reads may still book (a bad body, refused after the limiter counted it).
    const book = (instance: FastifyInstance) =>
      instance.inject({ method: 'POST', url: '/bookings', payload: {}, remoteAddress: '203.0.113.7' })
    expect(statuses([await book(first), await book(second), await book(first)])).toEqual([400, 400, 429])
  })
})

describe('the public routes’ headers and body limit', () => {
  let stores: ApiStores
  let app: FastifyInstance
  beforeAll(async () => {
    stores = await startApiStores('public_headers')
    app = await stores.server({ BODY_LIMIT_BYTES: '2048' })
  }, 60_000)
  afterAll(() => stores?.stop(), 60_000)

  it("answers every route group with helmet's security headers", async () => {
    const answers = [
      await app.inject(availability),
      await app.inject({ method: 'POST', url: '/bookings', payload: {} }),
      await app.inject({ method: 'POST', url: '/webhooks/calendar', payload: {} }),
      await app.inject('/admin'),
    ]
    for (const answer of answers) {
      expect(answer.headers).toMatchObject({
        'content-security-policy': expect.stringContaining("script-src 'self'"),
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'SAMEORIGIN',
        'strict-transport-security': expect.stringContaining('max-age='),
        'referrer-policy': 'no-referrer',
        'cross-origin-opener-policy': 'same-origin',
      })
      expect(answer.headers['x-powered-by']).toBeUndefined()
    }
  })

  it('refuses a body over BODY_LIMIT_BYTES with 413, its code a field', async () => {
    const answer = await app.inject({
      method: 'POST',
      url: '/bookings',
      payload: { customerEmail: `${'x'.repeat(3_000)}@example.com` },
    })
    expect(answer.statusCode).toBe(413)
    expect(answer.json()).toMatchObject({ error: { code: 'FST_ERR_CTP_BODY_TOO_LARGE' } })
  })
})

describe('the security configuration', () => {
  const stores = withRedisEnv(
    { DATABASE_URL: 'postgres://localhost/booking' },
    { url: 'redis://localhost:6379' },
  )
  const secrets = {
    ADMIN_OPERATOR_PASSWORD: 'a-long-enough-password',
    WEBHOOK_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  }
  /** The field a configuration error names, read from its `details`. */
  const refusedField = (env: NodeJS.ProcessEnv) => {
    try {
      readApiConfig({ ...stores, ...env })
      return 'accepted'
    } catch (error) {
      expect(errorCode(error)).toBe('BOOKING_ERR_INVALID_INPUT')
      return (error as { details: { field: string } }).details.field
    }
  }

  it('has safe defaults for every limit, and no viewer unless one is configured', () => {
    const config = readApiConfig({ ...stores, ...secrets })
    expect(config).toMatchObject({
      RATE_LIMIT_WINDOW: 60_000,
      RATE_LIMIT_READS: 300,
      RATE_LIMIT_BOOKINGS: 30,
      RATE_LIMIT_WEBHOOKS: 120,
      BODY_LIMIT_BYTES: 16_384,
      WEBHOOK_TOLERANCE: 300_000,
    })
    expect(config.ADMIN_VIEWER_PASSWORD).toBeUndefined()
    expect(config.TRUST_PROXY).toBeUndefined()
    expect(
      readApiConfig({ ...stores, ...secrets, TRUST_PROXY: '10.0.0.0/8, 127.0.0.1' }).TRUST_PROXY,
    ).toEqual(['10.0.0.0/8', '127.0.0.1'])
  })

  it('refuses to start without an operator password or a webhook secret, or with weak or nonsensical ones', () => {
    expect(refusedField({ WEBHOOK_SECRET: secrets.WEBHOOK_SECRET })).toBe('env.ADMIN_OPERATOR_PASSWORD')
    expect(refusedField({ ADMIN_OPERATOR_PASSWORD: secrets.ADMIN_OPERATOR_PASSWORD })).toBe(
      'env.WEBHOOK_SECRET',
    )
    expect(refusedField({ ...secrets, ADMIN_OPERATOR_PASSWORD: 'short' })).toBe('env.ADMIN_OPERATOR_PASSWORD')
    expect(refusedField({ ...secrets, ADMIN_VIEWER_PASSWORD: 'short' })).toBe('env.ADMIN_VIEWER_PASSWORD')
    expect(refusedField({ ...secrets, WEBHOOK_SECRET: 'whsec_c2hvcnQ=' })).toBe('env.WEBHOOK_SECRET')
    expect(refusedField({ ...secrets, RATE_LIMIT_READS: '0' })).toBe('env.RATE_LIMIT_READS')
    expect(refusedField({ ...secrets, RATE_LIMIT_WINDOW: 'soon' })).toBe('env.RATE_LIMIT_WINDOW')
    expect(refusedField({ ...secrets, BODY_LIMIT_BYTES: '10' })).toBe('env.BODY_LIMIT_BYTES')
    // What `pnpm demo` generates passes.
    expect(refusedField(secretsEnv(newStackSecrets()))).toBe('accepted')
  })
})
