import { describe, expect, it } from 'vitest'
import { defineSaga } from '../definition/define-saga.js'
import { DomainRejection } from '../errors.js'
import { bucketOf, KeyLayout } from '../store/redis/key-layout.js'
import { ChaosCache, useCaches } from '../test-support/caches.js'
import { eventually, onEachTopology } from '../test-support/redis.js'
import { orphan, testRunner, testStore } from '../test-support/runner.js'
import { bookingInput, bookingSaga } from '../testing/booking-saga.js'
import { EffectLedger } from '../testing/effects.js'
import { invalidateCache } from './invalidate-cache.js'

onEachTopology((redis) => {
  const newCache = useCaches(redis)

  describe('invalidateCache', () => {
    it('invalidates the target resolved from the saga context and records it as the step result', async () => {
      const cache = await newCache()
      const { runner } = testRunner(redis, { cache })
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
      const { runner, prefix } = testRunner(redis, { cache })
      // The "database": the slot's state, owned by the test.
      const slotKey = `${prefix}db:slot:mon-9`
      await redis.client.set(slotKey, 'free')
      const readSlot = () =>
        cache.getOrSet('availability:mon-9', async () => redis.client.get(slotKey), { tags: ['slot:mon-9'] })

      const saga = defineSaga('book', { input: bookingInput })
        .step('hold-slot', {
          run: async () => {
            await redis.client.set(slotKey, 'held')
          },
          compensate: async () => {
            // A reader racing the rollback refills the cache with the held slot just before it is freed: in plain
            // reverse order the invalidation would already have run, and this stale value would stay.
            expect(await readSlot()).toBe('held')
            await redis.client.set(slotKey, 'free')
          },
        })
        .step(invalidateCache({ tags: ['slot:mon-9'] }, { name: 'invalidate-availability' }))
        .step('commit', {
          kind: 'pivot',
          run: async () => {
            // A reader between the forward invalidation and the failure refills the cache with the held slot.
            expect(await readSlot()).toBe('held')
            throw new DomainRejection('PAYMENT_ERR_DECLINED', 'payment declined')
          },
        })

      const outcome = await runner.run(saga, { slot: 'mon-9' }, { sagaId: 'race' })
      expect(outcome.state).toBe('compensated')
      expect(await redis.client.get(slotKey)).toBe('free')
      expect(await readSlot()).toBe('free')
    })

    it('compensates after every other compensation, including those of steps that came before it', async () => {
      const cache = await newCache()
      const { runner, events } = testRunner(redis, { cache })
      const saga = defineSaga('order', { input: bookingInput })
        .step('hold-slot', { run: () => 1, compensate: () => {} })
        .step(invalidateCache({ tags: ['t'] }))
        .step('charge', { run: () => 2, compensate: () => {} })
        .step('commit', {
          kind: 'pivot',
          run: () => {
            throw new DomainRejection('TEST_ERR_NO', 'no')
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
      const { runner } = testRunner(redis, { cache: chaos })
      const saga = defineSaga('blocking', { input: bookingInput })
        .step('commit', { kind: 'pivot', run: () => 1 })
        .step(invalidateCache({ tags: ['t'] }, { retry: { attempts: 2, initialDelay: 5 } }))
      const outcome = await runner.run(saga, { slot: 'x' }, { sagaId: 'b1' })
      expect(outcome).toMatchObject({ state: 'parked', parkedStep: 'invalidate-cache' })
      expect(chaos.attempts).toHaveLength(2)
    })
  })

  describe('invalidateCache, non-blocking', () => {
    it('hands a failed invalidation to the retry scheduler, lets the saga go on, and records it', async () => {
      const chaos = new ChaosCache(await newCache())
      const { runner, events } = testRunner(redis, { cache: chaos })
      const saga = defineSaga('fire-and-forget', { input: bookingInput })
        .step('commit', { kind: 'pivot', run: () => 1 })
        .step(invalidateCache({ tags: ['staff:s1'] }, { blocking: false }))
        .step('notify', { run: () => 'sent' })
      const outcome = await runner.run(saga, { slot: 'x' }, { sagaId: 'nb1' })
      expect(outcome).toMatchObject({ state: 'completed', deferredInvalidations: 1 })
      expect(outcome.results.notify).toBe('sent')
      expect(events.lines('nb1')).toContain('invalidation.deferred invalidate-cache')

      // The default scheduler keeps the job in Redis; a later sweep, once the cache works again, completes it.
      chaos.fault = undefined
      const attemptsBefore = chaos.attempts.length
      await runner.recover()
      expect(chaos.attempts.slice(attemptsBefore)).toEqual([{ tags: ['staff:s1'] }])
      await runner.recover()
      expect(chaos.attempts).toHaveLength(attemptsBefore + 1)
    })

    it('reports a retry that fails again, and a cache that hangs does not stall the recovery sweep', async () => {
      const chaos = new ChaosCache(await newCache())
      const recoverable = bookingSaga(new EffectLedger())
      const { runner, events, prefix } = testRunner(redis, {
        cache: chaos,
        sweepInterval: 50,
        sagas: [recoverable],
      })
      const saga = defineSaga('deferred', { input: bookingInput })
        .step('commit', { kind: 'pivot', run: () => 1 })
        .step(invalidateCache({ tags: ['staff:s2'] }, { blocking: false }))
      await runner.run(saga, { slot: 'x' }, { sagaId: 'nb3' })

      await runner.recover()
      expect(events.lines('nb3')).toContain('invalidation.retry_failed invalidate-cache')
      const failedRetry = events.events.find(({ name }) => name === 'invalidation.retry_failed')?.event
      expect(failedRetry).toMatchObject({
        saga: 'deferred',
        error: { message: 'Redis connection lost during invalidation' },
      })

      // The cache stops answering. Once the job is due again (its claim hid it for `sweepInterval`), one sweep meets
      // both the hanging retry and an orphaned saga: it gives the retry up after the claim's visibility timeout and goes
      // on to resume the orphan, which is what it is for.
      chaos.fault = 'hang'
      await eventually(async () => {
        const [seconds, micros] = await redis.client.time()
        const now = Number(seconds) * 1000 + Number(micros) / 1000
        const due = Number(
          await redis.client.zscore(
            new KeyLayout(prefix).retries(bucketOf('nb3')).due,
            'nb3:invalidate-cache:step',
          ),
        )
        return due <= now ? true : undefined
      })
      await orphan(testStore(redis, prefix), 'orphan', recoverable, { slot: 'y', rejectAtCommit: false }, 10)
      const outcomes = await runner.recover()
      expect(outcomes.map((outcome) => [outcome.sagaId, outcome.state])).toEqual([['orphan', 'completed']])
      const timedOut = events.events.filter(({ name }) => name === 'invalidation.retry_failed').at(-1)?.event
      expect(timedOut?.error).toMatchObject({
        code: 'SAGA_ERR_STEP_TIMEOUT',
        message: expect.stringContaining('50 ms'),
      })
    })

    it('defers a failed compensation invalidation the same way, and the rollback still completes', async () => {
      const chaos = new ChaosCache(await newCache())
      const { runner, events } = testRunner(redis, { cache: chaos })
      const saga = defineSaga('rolled-back', { input: bookingInput })
        .step(invalidateCache({ tags: ['staff:s1'] }, { blocking: false }))
        .step('commit', {
          kind: 'pivot',
          run: () => {
            throw new DomainRejection('TEST_ERR_NO', 'no')
          },
        })
      const outcome = await runner.run(saga, { slot: 'x' }, { sagaId: 'nb2' })
      expect(outcome).toMatchObject({ state: 'compensated', deferredInvalidations: 2 })
      expect(events.lines('nb2').filter((line) => line.startsWith('invalidation.deferred'))).toHaveLength(2)
    })

    it('fails the step like a blocking one when the retry scheduler cannot take the job either', async () => {
      const chaos = new ChaosCache(await newCache())
      const { runner } = testRunner(redis, {
        cache: chaos,
        retryScheduler: {
          schedule: () => Promise.reject(new Error('queue Redis unreachable')),
        },
      })
      const saga = defineSaga('nowhere', { input: bookingInput })
        .step('commit', { kind: 'pivot', run: () => 1 })
        .step(invalidateCache({ tags: ['t'] }, { blocking: false, retry: { attempts: 2, initialDelay: 5 } }))
      const outcome = await runner.run(saga, { slot: 'x' }, { sagaId: 'nb4' })
      expect(outcome).toMatchObject({
        state: 'parked',
        parkedStep: 'invalidate-cache',
        error: { message: 'queue Redis unreachable' },
        deferredInvalidations: 0,
      })
      expect(chaos.attempts).toHaveLength(2)
    })

    it('uses an injected retry scheduler instead of the Redis one', async () => {
      const chaos = new ChaosCache(await newCache())
      const scheduled: unknown[] = []
      const { runner } = testRunner(redis, {
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
          error: {
            code: 'SAGA_ERR_INVALIDATION_FAILED',
            name: 'Error',
            message: 'Redis connection lost during invalidation',
            step: 'drop-k',
          },
        },
      ])
    })
  })
})
