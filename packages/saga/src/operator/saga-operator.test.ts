import { describe, expect, it } from 'vitest'
import { defineSaga } from '../definition/define-saga.js'
import { DomainRejection } from '../errors.js'
import { onEachTopology } from '../test-support/redis.js'
import { testRunner } from '../test-support/runner.js'
import { bookingInput } from '../testing/booking-saga.js'
import type { EffectLedger } from '../testing/effects.js'

/** hold-slot, whose compensation fails while `refunds.down` is true, then a pivot that rejects. */
function sagaWithFlakyRelease(ledger: EffectLedger, release: { down: boolean }) {
  return defineSaga('book', { input: bookingInput })
    .step('hold-slot', {
      run: (ctx) => ledger.apply('hold', ctx.idempotencyKey),
      compensate: async (ctx) => {
        if (release.down) throw new Error('slot service unavailable')
        await ledger.apply('release', ctx.idempotencyKey)
      },
    })
    .step('commit', {
      kind: 'pivot',
      run: () => {
        throw new DomainRejection('BOOKING_ERR_SLOT_TAKEN', 'double booking')
      },
    })
}

onEachTopology((redis) => {
  describe('a compensation that keeps failing', () => {
    it('is retried, parked as compensation_failed after three failures, and completed by an operator retry', async () => {
      const { runner, ledger, events } = testRunner(redis)
      const release = { down: true }
      const saga = sagaWithFlakyRelease(ledger, release)

      const failed = await runner.run(saga, { slot: 'x' }, { sagaId: 'cf1' })
      expect(failed).toMatchObject({
        state: 'compensation_failed',
        parkedStep: 'hold-slot',
        error: { message: 'slot service unavailable' },
      })
      expect(events.lines('cf1').filter((line) => line === 'compensation.failed hold-slot')).toHaveLength(3)
      expect(await runner.operator.list('compensation_failed')).toEqual(['cf1'])

      release.down = false
      const done = await runner.operator.retry('cf1', { actor: 'ann@ops', note: 'slot service restarted' })
      expect(done.state).toBe('compensated')
      expect(await ledger.applied()).toEqual({ hold: 1, release: 1 })
      expect(await runner.operator.list('compensation_failed')).toEqual([])
      expect(await runner.operator.list('compensated')).toEqual(['cf1'])

      const inspection = await runner.operator.inspect('cf1')
      const story = inspection?.log.map((entry) => entry.event)
      expect(story?.slice(story.indexOf('saga.compensation_failed'))).toEqual([
        'saga.compensation_failed',
        'operator.retry',
        'saga.resumed',
        'compensation.started',
        'compensation.completed',
        'saga.compensated',
      ])
      expect(inspection?.log.find((entry) => entry.event === 'operator.retry')).toMatchObject({
        actor: 'ann@ops',
        note: 'slot service restarted',
        step: 'hold-slot',
      })
      expect(events.lines('cf1')).toContain('operator.retry hold-slot')
    })

    it('can be skipped by an operator, which the log records', async () => {
      const { runner, ledger } = testRunner(redis)
      const saga = sagaWithFlakyRelease(ledger, { down: true })
      await runner.run(saga, { slot: 'x' }, { sagaId: 'cf2' })
      await expect(runner.operator.skip('cf2', { actor: 'ann', step: 'commit' })).rejects.toMatchObject({
        code: 'SAGA_ERR_INVALID_STATE',
      })
      const done = await runner.operator.skip('cf2', {
        actor: 'ann',
        step: 'hold-slot',
        note: 'released by hand',
      })
      expect(done.state).toBe('compensated')
      expect(await ledger.applied()).toEqual({ hold: 1 })
      expect(
        (await runner.operator.inspect('cf2'))?.log.some((entry) => entry.event === 'operator.skip'),
      ).toBe(true)
    })

    it('can be marked resolved by an operator, which closes it', async () => {
      const { runner, ledger } = testRunner(redis)
      await runner.run(sagaWithFlakyRelease(ledger, { down: true }), { slot: 'x' }, { sagaId: 'cf3' })
      expect(await runner.operator.resolve('cf3', { actor: 'bob' })).toBe('resolved')
      expect(await runner.operator.list('resolved')).toEqual(['cf3'])
      expect(
        await runner.run(sagaWithFlakyRelease(ledger, { down: false }), { slot: 'x' }, { sagaId: 'cf3' }),
      ).toMatchObject({
        state: 'resolved',
      })
    })
  })

  describe('operator actions', () => {
    it('are refused on a saga that is not waiting for one, and need an actor', async () => {
      const { runner } = testRunner(redis)
      const saga = defineSaga('ok', { input: bookingInput }).step('a', { run: () => 1 })
      await runner.run(saga, { slot: 'x' }, { sagaId: 'ok1' })
      await expect(runner.operator.retry('ok1', { actor: 'ann' })).rejects.toMatchObject({
        code: 'SAGA_ERR_INVALID_STATE',
      })
      await expect(runner.operator.retry('ok1', { actor: '' })).rejects.toThrow(/action\.actor/)
      expect(await runner.operator.inspect('missing')).toBeUndefined()
    })

    it('are refused, and change nothing, on a runner that does not know the saga definition', async () => {
      const first = testRunner(redis)
      const saga = defineSaga('late', { input: bookingInput })
        .step('commit', { kind: 'pivot', run: () => 1 })
        .step('notify', {
          run: () => {
            throw new DomainRejection('NOTIFY_ERR_ADDRESS', 'no address')
          },
        })
      await first.runner.run(saga, { slot: 'x' }, { sagaId: 'l1' })
      const stranger = testRunner(redis, { keyPrefix: first.prefix })
      await expect(stranger.runner.operator.retry('l1', { actor: 'ann' })).rejects.toMatchObject({
        code: 'SAGA_ERR_UNKNOWN_SAGA',
      })
      expect(await stranger.runner.operator.list('parked')).toEqual(['l1'])
      expect((await first.runner.operator.retry('l1', { actor: 'ann' })).state).toBe('parked')
    })
  })
})
