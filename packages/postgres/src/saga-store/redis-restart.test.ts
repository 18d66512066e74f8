import { createCache } from '@cachesaga/core'
import { createSagaRunner, defineSaga, invalidateCache } from '@cachesaga/saga'
import { EffectLedger } from '@cachesaga/saga/testing'
import { eventually, type RedisServer, startRedis } from '@cachesaga/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { installOutbox } from '../outbox/outbox.js'
import { createTestDatabase, type TestDatabase } from '../test-support/test-database.js'
import { BOOKINGS_SQL, commitBooking, committedRows } from '../test-support/transactional-booking.js'
import { installSagaStore } from './install-saga-store.js'
import { PostgresSagaStore } from './postgres-saga-store.js'

// With saga state in PostgreSQL, Redis only serves the cache: a Redis without persistence that restarts empty in the
// middle of a saga costs cached values, never the saga. (As a saga store, such a Redis is refused: see @cachesaga/saga,
// "What Redis a saga store needs".)

let db: TestDatabase
let redis: RedisServer

beforeAll(async () => {
  ;[db, redis] = await Promise.all([
    createTestDatabase('redis_restart', { durable: true }),
    startRedis({ allowExternal: false }), // persistence 'none': a restart comes back empty
  ])
  await installSagaStore({ database: db.url })
  await installOutbox({ database: db.url })
  await db.pool.query(BOOKINGS_SQL)
})
afterAll(async () => {
  await db?.drop()
  await redis?.stop()
})

describe('a Redis without persistence restarted in the middle of a saga on the PostgreSQL store', () => {
  it('loses nothing of the saga: it completes with every effect once, and its deferred invalidation is done later', async () => {
    const cache = createCache({ namespace: 'clinic', redis: redis.url })
    await cache.ready()
    const store = new PostgresSagaStore({ database: db.url })
    const runner = createSagaRunner({ store, cache, lease: '1s', sweepInterval: '200ms' })
    runner.start()
    const ledger = new EffectLedger()
    const slotReads = () => cache.getOrSet('free:mon-9', async () => 'free', { tags: ['slot:mon-9'] })
    expect(await slotReads()).toBe('free')

    // hold -> commit (pivot: the booking and its event, in the store's transaction) -> invalidate (non-blocking:
    // what fails waits in the store) -> notify. Redis dies after hold and comes back, empty, during notify.
    const saga = defineSaga('book-through-restart', { input: z.object({ slot: z.string().min(1) }) })
      .step('hold', {
        run: async (ctx) => {
          await ledger.apply('hold', ctx.idempotencyKey)
          await redis.kill()
        },
      })
      .step('commit', {
        kind: 'pivot',
        transaction: true,
        run: commitBooking(ledger),
        retry: { attempts: 1 },
      })
      .step(
        invalidateCache((ctx) => ({ tags: [`slot:${ctx.input.slot}`] }), { blocking: false, timeout: '3s' }),
      )
      .step('notify', {
        run: async (ctx) => {
          await ledger.apply('notify', ctx.idempotencyKey)
          await redis.restart()
        },
      })

    const outcome = await runner.run(saga, { slot: 'mon-9' }, { sagaId: 'bk-restart' })
    expect(outcome).toMatchObject({ state: 'completed', deferredInvalidations: 1 })
    expect(await ledger.calls()).toEqual({ hold: 1, commit: 1, notify: 1 })
    expect(await committedRows(db.pool, 'bk-restart')).toEqual({ bookings: 1, events: 1 })

    // The invalidation Redis could not take was kept in PostgreSQL; a sweep does it once Redis is back.
    await eventually('the deferred invalidation is done', async () => {
      const { rows } = await db.pool.query('SELECT 1 FROM cachesaga.saga_invalidation_retries')
      return rows.length === 0
    })
    const { log } = (await runner.operator.inspect('bk-restart'))!
    expect(log.map((entry) => `${entry.event} ${entry.step ?? ''}`.trim())).toEqual([
      'saga.started',
      'step.started hold',
      'step.completed hold',
      'step.started commit',
      'step.completed commit',
      'step.started invalidate-cache',
      'step.deferred invalidate-cache',
      'step.completed invalidate-cache',
      'step.started notify',
      'step.completed notify',
      'saga.completed',
    ])
    await runner.close()
    await store.close()
    await cache.close()
  }, 60_000)
})
