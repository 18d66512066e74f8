import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { defineSaga } from '../definition/define-saga.js'
import type { StepContext } from '../definition/step.js'
import { invalidateAfterBooking } from '../invalidation/booking-invalidation.js'
import { invalidateCache } from '../invalidation/invalidate-cache.js'
import { ChaosCache, useCaches } from '../test-support/caches.js'
import { onEachTopology } from '../test-support/redis.js'
import { testRunner } from '../test-support/runner.js'
import { bookingInput } from '../testing/booking-saga.js'
import type { EffectLedger } from '../testing/effects.js'

// Deterministic failures (a result that is not JSON, an input or a target that does not validate) would fail the
// same way on every attempt: they are never retried. Before the pivot the saga compensates at once; at or after it,
// it parks. Either way the outcome names the code and the step.

/** A compensatable first step whose effects go to the test's ledger. */
const holdSlot = (ledger: EffectLedger) => ({
  run: (ctx: StepContext<unknown, unknown>) => ledger.apply('hold', ctx.idempotencyKey),
  compensate: (ctx: StepContext<unknown, unknown>) => ledger.apply('release', ctx.idempotencyKey),
})

const retry = { attempts: 3, initialDelay: 5 }

onEachTopology((redis) => {
  const newCache = useCaches(redis)

  describe('a step whose result cannot be stored as JSON', () => {
    it('before the pivot: ran once, and the saga compensates it at once with SAGA_ERR_RESULT_NOT_SERIALIZABLE', async () => {
      const { runner, ledger, events } = testRunner(redis)
      const undone: unknown[] = []
      const saga = defineSaga('quote', { input: bookingInput })
        .step('hold-slot', holdSlot(ledger))
        .step('quote', {
          retry,
          run: async (ctx) => {
            await ledger.apply('quote', ctx.idempotencyKey)
            return { price: 120n }
          },
          compensate: async (ctx) => {
            undone.push(ctx.result)
            await ledger.apply('unquote', ctx.idempotencyKey)
          },
        })
        .step('commit', { kind: 'pivot', run: (ctx) => ledger.apply('commit', ctx.idempotencyKey) })

      const outcome = await runner.run(saga, { slot: 'x' }, { sagaId: 'd1' })
      expect(outcome).toMatchObject({
        state: 'compensated',
        error: {
          code: 'SAGA_ERR_RESULT_NOT_SERIALIZABLE',
          step: 'quote',
          message: expect.stringContaining('BigInt'),
        },
      })
      expect(await ledger.calls()).toEqual({ hold: 1, quote: 1, unquote: 1, release: 1 })
      // The step acted but its completion was never recorded: its compensation runs without a result.
      expect(undone).toEqual([undefined])
      expect(events.lines('d1').filter((line) => line.startsWith('step.failed'))).toEqual([
        'step.failed quote',
      ])
    })

    it('at the pivot or after it: ran once, and the saga parks with that code', async () => {
      const { runner, ledger } = testRunner(redis)
      const circular = (): unknown => {
        const loop: Record<string, unknown> = {}
        loop.self = loop
        return loop
      }
      const afterPivot = defineSaga('notify-loop', { input: bookingInput })
        .step('hold-slot', holdSlot(ledger))
        .step('commit', { kind: 'pivot', run: (ctx) => ledger.apply('commit', ctx.idempotencyKey) })
        .step('notify', { retry, run: (ctx) => ledger.apply('notify', ctx.idempotencyKey).then(circular) })
      expect(await runner.run(afterPivot, { slot: 'x' }, { sagaId: 'd2' })).toMatchObject({
        state: 'parked',
        parkedStep: 'notify',
        error: { code: 'SAGA_ERR_RESULT_NOT_SERIALIZABLE', step: 'notify' },
      })
      expect(await ledger.calls()).toEqual({ hold: 1, commit: 1, notify: 1 })

      // A pivot that committed and then returned something unstorable: only a person can say whether to roll back.
      const atPivot = defineSaga('commit-bigint', { input: bookingInput })
        .step('hold-slot', holdSlot(ledger))
        .step('commit', {
          kind: 'pivot',
          retry,
          run: (ctx) => ledger.apply('commit', ctx.idempotencyKey).then(() => ({ id: 7n })),
        })
      expect(await runner.run(atPivot, { slot: 'x' }, { sagaId: 'd3' })).toMatchObject({
        state: 'parked',
        parkedStep: 'commit',
        error: { code: 'SAGA_ERR_RESULT_NOT_SERIALIZABLE', step: 'commit' },
      })
      expect(await ledger.calls()).toEqual({ hold: 2, commit: 2, notify: 1 })
    })
  })

  describe('a step whose input does not validate', () => {
    const strict = z.object({ slot: z.string().regex(/^[a-z]{3}-\d+$/, 'expected a slot like mon-9') })

    it('before the pivot: a ZodError thrown by a step is SAGA_ERR_INVALID_INPUT, not retried, compensated', async () => {
      const { runner, ledger } = testRunner(redis)
      let checks = 0
      const saga = defineSaga('validate', { input: bookingInput })
        .step('hold-slot', holdSlot(ledger))
        .step('check', {
          retry,
          run: (ctx) => {
            checks++
            return strict.parse(ctx.input)
          },
        })
        .step('commit', { kind: 'pivot', run: () => 'never' })
      expect(await runner.run(saga, { slot: 'monday 9am' }, { sagaId: 'i1' })).toMatchObject({
        state: 'compensated',
        error: { code: 'SAGA_ERR_INVALID_INPUT', step: 'check', message: 'slot: expected a slot like mon-9' },
      })
      expect(checks).toBe(1)
      expect(await ledger.order()).toEqual(['hold', 'release'])
    })

    it('after the pivot: the booking helpers refuse an unparsable date once, and the saga parks with its field', async () => {
      const cache = new ChaosCache(await newCache())
      cache.fault = undefined
      const { runner, ledger } = testRunner(redis, { cache })
      const saga = defineSaga('book', { input: z.object({ start: z.string() }) })
        .step('commit', { kind: 'pivot', run: (ctx) => ledger.apply('commit', ctx.idempotencyKey) })
        .step(
          invalidateAfterBooking(
            ({ input }) => ({ bookingId: 'b1', staffId: 's1', serviceId: 'cut', ...input }),
            {
              retry,
            },
          ),
        )
      expect(await runner.run(saga, { start: 'next monday' }, { sagaId: 'i2' })).toMatchObject({
        state: 'parked',
        parkedStep: 'invalidate-after-booking',
        error: { code: 'SAGA_ERR_INVALID_INPUT', details: { field: 'slot.start' } },
      })
      expect(cache.attempts).toEqual([])
    })
  })

  describe('an invalidateCache target that the cache refuses', () => {
    /** hold-slot, an invalidation of `target`, then the pivot (or the pivot first, when `afterPivot`). */
    function sagaInvalidating(ledger: EffectLedger, target: object, options: { blocking?: boolean } = {}) {
      return defineSaga('refused', { input: bookingInput })
        .step('hold-slot', holdSlot(ledger))
        .step(invalidateCache(target, { retry, ...options }))
        .step('commit', { kind: 'pivot', run: (ctx) => ledger.apply('commit', ctx.idempotencyKey) })
    }

    it('before the pivot: compensates the saga (not compensation_failed) and never sends the target again', async () => {
      const cache = new ChaosCache(await newCache())
      cache.fault = undefined
      const { runner, ledger, events } = testRunner(redis, { cache })
      const outcome = await runner.run(
        sagaInvalidating(ledger, { tags: [''] }),
        { slot: 'x' },
        { sagaId: 't1' },
      )
      expect(outcome).toMatchObject({
        state: 'compensated',
        error: {
          code: 'SAGA_ERR_INVALID_TARGET',
          step: 'invalidate-cache',
          details: { cacheCode: 'CS_ERR_INVALID_TARGET', target: { tags: [''] } },
        },
      })
      expect(cache.attempts).toEqual([{ tags: [''] }])
      expect(await ledger.order()).toEqual(['hold', 'release'])
      expect(events.lines('t1')).toContain('compensation.skipped invalidate-cache')
      const inspection = await runner.operator.inspect('t1')
      expect(inspection?.record.compensations.get('invalidate-cache')).toMatchObject({
        status: 'skipped',
        error: { code: 'SAGA_ERR_INVALID_TARGET' },
      })
    })

    it('non-blocking: a refused target is not deferred to the retry scheduler', async () => {
      const cache = new ChaosCache(await newCache())
      cache.fault = undefined
      const scheduled: unknown[] = []
      const { runner, ledger } = testRunner(redis, {
        cache,
        retryScheduler: { schedule: async (job) => void scheduled.push(job) },
      })
      const saga = sagaInvalidating(ledger, { patterns: ['*'] }, { blocking: false })
      expect(await runner.run(saga, { slot: 'x' }, { sagaId: 't2' })).toMatchObject({
        state: 'compensated',
        deferredInvalidations: 0,
        error: { code: 'SAGA_ERR_INVALID_TARGET', details: { cacheCode: 'CS_ERR_MATCH_ALL_REFUSED' } },
      })
      expect(scheduled).toEqual([])
      expect(cache.attempts).toHaveLength(1)
    })

    it('after the pivot: parks with SAGA_ERR_INVALID_TARGET after one attempt', async () => {
      const cache = new ChaosCache(await newCache())
      cache.fault = undefined
      const { runner, ledger } = testRunner(redis, { cache })
      const saga = defineSaga('refused-late', { input: bookingInput })
        .step('commit', { kind: 'pivot', run: (ctx) => ledger.apply('commit', ctx.idempotencyKey) })
        .step(invalidateCache({}, { retry }))
      expect(await runner.run(saga, { slot: 'x' }, { sagaId: 't3' })).toMatchObject({
        state: 'parked',
        parkedStep: 'invalidate-cache',
        error: { code: 'SAGA_ERR_INVALID_TARGET', details: { cacheCode: 'CS_ERR_INVALID_TARGET' } },
      })
      expect(cache.attempts).toEqual([{}])
    })
  })
})
