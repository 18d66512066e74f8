// @cachesaga/saga with @cachesaga/queue, as an application wires them: neither package imports the other; the
// runner's `events` and `retryScheduler` are matched by shape.
import { EventBus, InvalidationQueue, type Signal, startWorkers, type WorkerGroup } from '@cachesaga/queue'
import { afterEach, describe, expect, it } from 'vitest'
import { defineSaga } from './definition/define-saga.js'
import type { SagaEvent, SagaEventName } from './events.js'
import { invalidateCache } from './invalidation/invalidate-cache.js'
import { ChaosCache, useCaches } from './test-support/caches.js'
import { eventually, freshPrefix, onEachTopology, useRedis } from './test-support/redis.js'
import { testRunner } from './test-support/runner.js'
import { bookingInput, bookingSaga } from './testing/booking-saga.js'

/** The queue's own Redis: BullMQ runs on a single node here, whatever the sagas run on. */
const queueRedis = useRedis()

onEachTopology((redis) => {
  const newCache = useCaches(redis)

  describe('saga transitions on the EventBus of @cachesaga/queue', () => {
    it('arrive as typed signals, in order, on wildcard subscriptions', async () => {
      const bus = new EventBus<Record<SagaEventName, SagaEvent>>()
      const seen: string[] = []
      const record = (signal: Signal<SagaEventName, SagaEvent>) => {
        if (signal.payload.sagaId === 'bus1') seen.push(`${signal.name} ${signal.payload.step ?? ''}`.trim())
      }
      bus.onSignal('saga.*', record)
      bus.onSignal('step.*', record)
      const { runner, ledger } = testRunner(redis, { events: bus })
      await runner.run(bookingSaga(ledger), { slot: 'mon-9' }, { sagaId: 'bus1' })
      expect(seen).toEqual([
        'saga.started',
        ...['hold-slot', 'charge', 'commit', 'notify'].flatMap((step) => [
          `step.started ${step}`,
          `step.completed ${step}`,
        ]),
        'saga.completed',
      ])
    })

    it('reach the other listeners, and the saga completes, when one listener fails', async () => {
      const bus = new EventBus<Record<SagaEventName, SagaEvent>>()
      const failures: string[] = []
      bus.onListenerFailed((failure) => {
        failures.push(failure.listener)
      })
      bus.onSignal('**', () => Promise.reject(new Error('tracing exporter down')), { name: 'tracing' })
      const completed: string[] = []
      bus.onSignal('saga.completed', (signal) => {
        completed.push(signal.payload.sagaId)
      })
      const { runner, ledger } = testRunner(redis, { events: bus })
      expect((await runner.run(bookingSaga(ledger), { slot: 'x' }, { sagaId: 'bus2' })).state).toBe(
        'completed',
      )
      // saga.started, started and completed for each of the four steps, saga.completed: ten signals, ten failures.
      await eventually(async () => (failures.length === 10 ? true : undefined))
      expect(completed).toEqual(['bus2'])
      expect(new Set(failures)).toEqual(new Set(['tracing']))
    })
  })

  describe('non-blocking invalidation retried through the cache-invalidation queue', () => {
    const workers: WorkerGroup[] = []
    afterEach(async () => {
      await Promise.all(workers.splice(0).map((worker) => worker.close({ timeout: '5s' })))
    })

    it('hands the failed invalidation to the queue, and a worker applies it to the real cache', async () => {
      const cache = await newCache()
      // The runner's path to the cache is down; the worker's is healthy (another process, in production).
      const chaos = new ChaosCache(cache)
      const connection = { redis: queueRedis.url, prefix: freshPrefix().replaceAll(':', '') }
      const retries = new InvalidationQueue({ ...connection, backoff: 10 })
      const { runner } = testRunner(redis, { cache: chaos, retryScheduler: retries })
      let loads = 0
      const read = () => cache.getOrSet('staff:s1:profile', () => ++loads, { tags: ['staff:s1'] })
      try {
        expect(await read()).toBe(1)
        const saga = defineSaga('update-staff', { input: bookingInput })
          .step('commit', { kind: 'pivot', run: () => 'saved' })
          .step(invalidateCache({ tags: ['staff:s1'] }, { blocking: false }))
        const outcome = await runner.run(saga, { slot: 'x' }, { sagaId: 'queued-1' })
        expect(outcome).toMatchObject({ state: 'completed', deferredInvalidations: 1 })
        expect(await read()).toBe(1)

        workers.push(await startWorkers({ ...connection, invalidator: cache, log: () => {} }))
        await eventually(async () => ((await read()) === 2 ? true : undefined))
        expect(chaos.attempts).toEqual([{ tags: ['staff:s1'] }])
      } finally {
        await retries.close()
      }
    })
  })
})
