import { type Cache, createCache } from '@cachesaga/core'
import {
  createRedisSagaStore,
  createSagaRunner,
  DomainRejection,
  defineSaga,
  invalidateCache,
  type SagaLog,
  type SagaRunner,
} from '@cachesaga/saga'
import { eventually, type RedisServer, startRedis } from '@cachesaga/testkit'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { denials, refusal, resetDenials } from './support/acl-log.js'
import { aclRules } from './support/readme-acl.js'

const KEY_PREFIX = 'clinic:saga:'
const runnerRules = aclRules('saga', 'saga-runner', { 'key-prefix': KEY_PREFIX })
const users = [
  { name: 'saga-runner', rules: runnerRules },
  // The README's alternative: the same line with CONFIG GET, where no password lives in the configuration.
  { name: 'saga-runner-checking', rules: [...runnerRules, '+config|get'] },
  { name: 'cache-clinic', rules: aclRules('core', 'cache-<namespace>', { namespace: 'clinic' }) },
].map((user) => ({ ...user, password: `${user.name}-secret` }))

/** What the cache does for the sagas below; `failNext` makes the next invalidation fail, as an outage would. */
const cacheCalls = { failNext: false }

const book = defineSaga('book', {
  input: z.object({ staffId: z.string(), outcome: z.enum(['commit', 'reject', 'park-once']) }),
})
  .step('hold', { run: () => ({ held: true }), compensate: () => {} })
  .step(invalidateCache(({ input }) => ({ tags: [`staff:${input.staffId}`] }), { blocking: false }))
  .step('commit', {
    kind: 'pivot',
    run: ({ input }) => {
      if (input.outcome === 'reject') throw new DomainRejection('CLINIC_ERR_SLOT_TAKEN', 'the slot is taken')
      return { committed: true }
    },
  })
  .step('notify', {
    run: ({ input, sagaId }) => {
      if (input.outcome === 'park-once' && !notified.has(sagaId)) {
        notified.add(sagaId)
        throw new DomainRejection('MAIL_ERR_REFUSED', 'the mail server refused the address')
      }
      return 'sent'
    },
  })
const notified = new Set<string>()

describe('a saga runner on its README user', () => {
  let server: RedisServer
  let cache: Cache
  const closing: Array<() => Promise<unknown>> = []
  const logged: string[] = []
  const log: SagaLog = (level, message, fields) => logged.push(`${level} ${fields?.code ?? ''} ${message}`)

  function runnerOn(user: string, options: { requireDurableStore?: boolean } = {}): SagaRunner {
    const runner = createSagaRunner({
      redis: server.urlFor(user),
      keyPrefix: KEY_PREFIX,
      sagas: [book],
      cache: {
        invalidate: (target) => {
          if (!cacheCalls.failNext) return cache.invalidate(target as never)
          cacheCalls.failNext = false
          return Promise.reject(new Error('the cache is away'))
        },
      },
      lease: '1s',
      sweepInterval: '100ms',
      retainFinished: '1ms',
      log,
      ...options,
    })
    closing.push(() => runner.close())
    return runner
  }

  beforeAll(async () => {
    // An append-only file and noeviction: a store that keeps what it acknowledges.
    server = await startRedis({ persistence: 'aof', users })
    cache = createCache({ namespace: 'clinic', redis: server.urlFor('cache-clinic') })
    closing.push(() => cache.close())
    await cache.ready()
  })

  afterAll(async () => {
    for (const close of closing.reverse()) await close()
    await server?.stop()
  })

  it('drives, recovers and settles sagas, refused only the CONFIG GET it was not given', async () => {
    await resetDenials([server.url])
    const runner = runnerOn('saga-runner', { requireDurableStore: false })
    const slots = () => cache.getOrSet('slots:ana', () => ['09:00'], { tags: ['staff:ana'] })

    expect((await runner.run(book, { staffId: 'ana', outcome: 'commit' }, { sagaId: 'one' })).state).toBe(
      'completed',
    )
    expect((await runner.run(book, { staffId: 'ana', outcome: 'reject' }, { sagaId: 'two' })).state).toBe(
      'compensated',
    )
    // Parked after the pivot; an operator lists, inspects and retries it.
    expect(
      (await runner.run(book, { staffId: 'ana', outcome: 'park-once' }, { sagaId: 'three' })).state,
    ).toBe('parked')
    expect(await runner.operator.list('parked')).toEqual(['three'])
    expect((await runner.operator.inspect('three'))?.record.parkedStep).toBe('notify')
    expect((await runner.operator.retry('three', { actor: 'ops' })).state).toBe('completed')
    // A failed invalidation is deferred to the store's retry schedule, which the recovery sweep works off.
    await slots()
    cacheCalls.failNext = true
    const deferred = await runner.run(book, { staffId: 'ana', outcome: 'commit' }, { sagaId: 'four' })
    expect(deferred).toMatchObject({ state: 'completed', deferredInvalidations: 1 })
    expect(await cache.get('slots:ana')).toEqual(['09:00'])
    // A saga whose runner died: created and leased by a store, then abandoned, for the sweep to take over.
    const store = createRedisSagaStore({ redis: server.urlFor('saga-runner'), keyPrefix: KEY_PREFIX })
    closing.push(() => store.close())
    const input = JSON.stringify({ staffId: 'bo', outcome: 'commit' })
    await store.acquire('five', { token: 'a-runner-that-died', ms: 50 }, { name: 'book', inputJson: input })

    runner.start()
    await eventually(
      'the deferred invalidation retried',
      async () => (await cache.get('slots:ana')) === undefined,
    )
    await eventually('the abandoned saga finished', async () =>
      (await runner.operator.list('completed')).includes('five'),
    )
    // Finished sagas are forgotten after retainFinished by the same sweeps.
    await eventually(
      'finished sagas forgotten',
      async () => (await runner.operator.list('completed')).length === 0,
    )

    const refused = await denials([server.url])
    expect(new Set(refused.map(({ user, reason, object }) => `${user} ${reason} ${object}`))).toEqual(
      new Set(['saga-runner command config|get']),
    )
    expect(logged.filter((line) => line.startsWith('warn SAGA_ERR_STORE_DURABILITY_UNKNOWN'))).toHaveLength(1)
  })

  it('without requireDurableStore: false, refuses to drive a saga, saying CONFIG GET was refused', async () => {
    const runner = runnerOn('saga-runner')
    await expect(
      runner.run(book, { staffId: 'cy', outcome: 'commit' }, { sagaId: 'six' }),
    ).rejects.toMatchObject({
      code: 'SAGA_ERR_STORE_DURABILITY_UNKNOWN',
      message: expect.stringContaining('+config|get'),
    })
    expect(await runner.operator.inspect('six')).toBeUndefined()
  })

  it('keeps the persistence check with the line plus +config|get, refused nothing', async () => {
    await resetDenials([server.url])
    const runner = runnerOn('saga-runner-checking')
    expect((await runner.run(book, { staffId: 'cy', outcome: 'commit' }, { sagaId: 'seven' })).state).toBe(
      'completed',
    )
    expect(await denials([server.url])).toEqual([])
  })

  it('is refused every command and key outside its line', async () => {
    const client = new Redis(server.urlFor('saga-runner'), { maxRetriesPerRequest: 1 })
    try {
      const outside: Array<[string, () => Promise<unknown>]> = [
        ['CONFIG GET', () => client.config('GET', 'requirepass')],
        ['CONFIG SET', () => client.config('SET', 'appendonly', 'no')],
        ['FLUSHALL', () => client.flushall()],
        ['KEYS', () => client.keys('*')],
        ['SCAN', () => client.scan('0')],
        ["another prefix's sagas", () => client.zrange('other:saga:{00}:active', 0, -1)],
        ["the cache's keys", () => client.get('cs:{clinic}:g:n')],
      ]
      for (const [what, call] of outside) {
        expect(`${what}: ${await refusal(call())}`).toMatch(new RegExp(`^${what}: NOPERM`))
      }
    } finally {
      client.disconnect()
    }
  })
})
