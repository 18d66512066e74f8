import { describe, expect, it } from 'vitest'
import { defineSaga } from '../definition/define-saga.js'
import { DomainRejection } from '../errors.js'
import { bookingInput } from '../test-support/booking-saga.js'
import { ChaosCache, useCaches } from '../test-support/caches.js'
import { useRedis } from '../test-support/redis.js'
import { testRunner } from '../test-support/runner.js'
import { invalidateCache } from './invalidate-cache.js'

const server = useRedis()
const newCache = useCaches(() => server.url)

describe('invalidateCache', () => {
  it('invalidates the target resolved from the saga context and records it as the step result', async () => {
    const cache = await newCache()
    const { runner } = testRunner(server.redis, { cache })
    let loads = 0
    const read = () => cache.getOrSet('staff:s1:profile', () => ++loads, { tags: ['staff:s1'] })
    expect(await read()).toBe(1)
    expect(await read()).toBe(1)

    const saga = defineSaga('update-staff', { input: bookingInput }).step(
      invalidateCache((ctx) => ({ tags: [`staff:${ctx.input.slot}`] })),
    )
    const outcome = await runner.run(saga, { slot: 's1' }, { sagaId: 'u1' })
    expect(outcome.results).toEqual({ 'invalidate-cache': { target: { tags: ['staff:s1'] } } })
    expect(await read()).toBe(2)
  })

  it('a cache refilled mid-saga does not survive the rollback', async () => {
    const cache = await newCache()
    const { runner, prefix } = testRunner(server.redis, { cache })
    // The "database": the slot's state, owned by the test.
    const slotKey = `${prefix}db:slot:mon-9`
    await server.redis.set(slotKey, 'free')
    const readSlot = () =>
      cache.getOrSet('availability:mon-9', async () => server.redis.get(slotKey), { tags: ['slot:mon-9'] })

    const saga = defineSaga('book', { input: bookingInput })
      .step('hold-slot', {
        run: async () => {
          await server.redis.set(slotKey, 'held')
        },
        compensate: async () => {
          // A reader racing the rollback refills the cache with the held slot just before it is freed: in plain
          // reverse order the invalidation would already have run, and this stale value would stay.
          expect(await readSlot()).toBe('held')
          await server.redis.set(slotKey, 'free')
        },
      })
      .step(invalidateCache({ tags: ['slot:mon-9'] }, { name: 'invalidate-availability' }))
      .step('commit', {
        kind: 'pivot',
        run: async () => {
          // A reader between the forward invalidation and the failure refills the cache with the held slot.
          expect(await readSlot()).toBe('held')
          throw new DomainRejection('payment declined')
        },
      })

    const outcome = await runner.run(saga, { slot: 'mon-9' }, { sagaId: 'race' })
    expect(outcome.state).toBe('compensated')
    expect(await server.redis.get(slotKey)).toBe('free')
    expect(await readSlot()).toBe('free')
  })

  it('compensates after every other compensation, including those of steps that came before it', async () => {
    const cache = await newCache()
    const { runner, events } = testRunner(server.redis, { cache })
    const saga = defineSaga('order', { input: bookingInput })
      .step('hold-slot', { run: () => 1, compensate: () => {} })
      .step(invalidateCache({ tags: ['t'] }))
      .step('charge', { run: () => 2, compensate: () => {} })
      .step('commit', {
        kind: 'pivot',
        run: () => {
          throw new DomainRejection('no')
        },
      })
    await runner.run(saga, { slot: 'x' }, { sagaId: 'o1' })
    expect(events.lines('o1').filter((line) => line.startsWith('compensation.completed'))).toEqual([
      'compensation.completed charge',
      'compensation.completed hold-slot',
      'compensation.completed invalidate-cache',
    ])
  })

  it('blocking (the default): a failing invalidation fails the step, which retries like any step', async () => {
    const chaos = new ChaosCache(await newCache())
    const { runner } = testRunner(server.redis, { cache: chaos })
    const saga = defineSaga('blocking', { input: bookingInput })
      .step('commit', { kind: 'pivot', run: () => 1 })
      .step(invalidateCache({ tags: ['t'] }, { retry: { attempts: 2, initialDelayMs: 5 } }))
    const outcome = await runner.run(saga, { slot: 'x' }, { sagaId: 'b1' })
    expect(outcome).toMatchObject({ state: 'parked', parkedStep: 'invalidate-cache' })
    expect(chaos.attempts).toHaveLength(2)
  })
})

describe('invalidateCache, non-blocking', () => {
  it('hands a failed invalidation to the retry scheduler, lets the saga go on, and records it', async () => {
    const chaos = new ChaosCache(await newCache())
    const { runner, events } = testRunner(server.redis, { cache: chaos })
    const saga = defineSaga('fire-and-forget', { input: bookingInput })
      .step('commit', { kind: 'pivot', run: () => 1 })
      .step(invalidateCache({ tags: ['staff:s1'] }, { blocking: false }))
      .step('notify', { run: () => 'sent' })
    const outcome = await runner.run(saga, { slot: 'x' }, { sagaId: 'nb1' })
    expect(outcome).toMatchObject({ state: 'completed', deferredInvalidations: 1 })
    expect(outcome.results.notify).toBe('sent')
    expect(events.lines('nb1')).toContain('invalidation.deferred invalidate-cache')

    // The default scheduler keeps the job in Redis; a later sweep, once the cache works again, completes it.
    chaos.failing = false
    const attemptsBefore = chaos.attempts.length
    await runner.recover()
    expect(chaos.attempts.slice(attemptsBefore)).toEqual([{ tags: ['staff:s1'] }])
    await runner.recover()
    expect(chaos.attempts).toHaveLength(attemptsBefore + 1)
  })

  it('defers a failed compensation invalidation the same way, and the rollback still completes', async () => {
    const chaos = new ChaosCache(await newCache())
    const { runner, events } = testRunner(server.redis, { cache: chaos })
    const saga = defineSaga('rolled-back', { input: bookingInput })
      .step(invalidateCache({ tags: ['staff:s1'] }, { blocking: false }))
      .step('commit', {
        kind: 'pivot',
        run: () => {
          throw new DomainRejection('no')
        },
      })
    const outcome = await runner.run(saga, { slot: 'x' }, { sagaId: 'nb2' })
    expect(outcome).toMatchObject({ state: 'compensated', deferredInvalidations: 2 })
    expect(events.lines('nb2').filter((line) => line.startsWith('invalidation.deferred'))).toHaveLength(2)
  })

  it('uses an injected retry scheduler instead of the Redis one', async () => {
    const chaos = new ChaosCache(await newCache())
    const scheduled: unknown[] = []
    const { runner } = testRunner(server.redis, {
      cache: chaos,
      retryScheduler: { schedule: async (job) => void scheduled.push(job) },
    })
    const saga = defineSaga('queued', { input: bookingInput }).step(
      invalidateCache({ keys: ['k'] }, { blocking: false, name: 'drop-k' }),
    )
    await runner.run(saga, { slot: 'x' }, { sagaId: 'q1' })
    expect(scheduled).toEqual([
      {
        id: 'q1:drop-k:step',
        sagaId: 'q1',
        step: 'drop-k',
        target: { keys: ['k'] },
        error: { name: 'Error', message: 'Redis connection lost during invalidation' },
      },
    ])
  })
})
