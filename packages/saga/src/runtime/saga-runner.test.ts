import { describe, expect, it } from 'vitest'
import { defineSaga } from '../definition/define-saga.js'
import type { StepContext } from '../definition/step.js'
import { DomainRejection, SagaError } from '../errors.js'
import { invalidateCache } from '../invalidation/invalidate-cache.js'
import { eventually, onEachTopology } from '../test-support/redis.js'
import { orphan, testRunner, testStore } from '../test-support/runner.js'
import { bookingInput, bookingSaga } from '../testing/booking-saga.js'
import type { EffectLedger } from '../testing/effects.js'
import { createSagaRunner } from './saga-runner.js'

/** A compensatable first step whose effects go to the test's ledger. */
const holdSlot = (ledger: EffectLedger) => ({
  run: (ctx: StepContext<unknown, unknown>) => ledger.apply('hold', ctx.idempotencyKey),
  compensate: (ctx: StepContext<unknown, unknown>) => ledger.apply('release', ctx.idempotencyKey),
})

onEachTopology((redis) => {
  describe('a saga that succeeds', () => {
    it('runs every step once, in order, each with its own idempotency key, and records their results', async () => {
      const { runner, ledger, events } = testRunner(redis)
      const outcome = await runner.run(bookingSaga(ledger), { slot: 'mon-9' }, { sagaId: 'b1' })

      expect(outcome).toMatchObject({ sagaId: 'b1', saga: 'book-appointment', state: 'completed' })
      expect(outcome.results).toEqual({
        'hold-slot': { hold: 'b1:hold-slot' },
        charge: { charge: 'b1:charge' },
        commit: { commit: 'b1:commit' },
        notify: { notify: 'b1:notify' },
      })
      expect(await ledger.order()).toEqual(['hold', 'charge', 'commit', 'notify'])
      expect(await ledger.calls()).toEqual({ hold: 1, charge: 1, commit: 1, notify: 1 })
      expect(events.lines('b1')).toEqual([
        'saga.started',
        ...['hold-slot', 'charge', 'commit', 'notify'].flatMap((step) => [
          `step.started ${step}`,
          `step.completed ${step}`,
        ]),
        'saga.completed',
      ])
    })

    it('hands each step the results of the steps before it', async () => {
      const { runner } = testRunner(redis)
      const saga = defineSaga('chain', { input: bookingInput })
        .step('a', { run: () => ({ n: 2 }) })
        .step('b', { run: (ctx) => ({ n: ctx.results.a.n * 10 }) })
      const outcome = await runner.run(saga, { slot: 'x' }, { sagaId: 'c1' })
      expect(outcome.results).toEqual({ a: { n: 2 }, b: { n: 20 } })
    })

    it('running the same saga id again returns the recorded outcome without running any step again', async () => {
      const { runner, ledger } = testRunner(redis)
      const saga = bookingSaga(ledger)
      const first = await runner.run(saga, { slot: 'mon-9' }, { sagaId: 'b1' })
      const second = await runner.run(saga, { slot: 'another input is ignored' }, { sagaId: 'b1' })
      expect(second).toEqual(first)
      expect(await ledger.calls()).toEqual({ hold: 1, charge: 1, commit: 1, notify: 1 })
    })

    it('refuses a saga id that belongs to a saga of another name', async () => {
      const { runner, ledger } = testRunner(redis)
      await runner.run(bookingSaga(ledger), { slot: 'mon-9' }, { sagaId: 'b1' })
      const other = defineSaga('other', { input: bookingInput }).step('a', { run: () => 1 })
      await expect(runner.run(other, { slot: 'x' }, { sagaId: 'b1' })).rejects.toMatchObject({
        code: 'SAGA_ERR_ID_CONFLICT',
      })
    })
  })

  describe('transient failures', () => {
    it('are retried with backoff until the step succeeds, with the same idempotency key', async () => {
      const { runner, events } = testRunner(redis)
      const seen: Array<{ attempt: number; key: string }> = []
      const saga = defineSaga('flaky', { input: bookingInput }).step('call', {
        retry: { attempts: 3, initialDelay: 5 },
        run: (ctx) => {
          seen.push({ attempt: ctx.attempt, key: ctx.idempotencyKey })
          if (ctx.attempt < 3) throw new Error('connection reset')
          return 'ok'
        },
      })
      const outcome = await runner.run(saga, { slot: 'x' }, { sagaId: 'f1' })
      expect(outcome.state).toBe('completed')
      expect(seen).toEqual([1, 2, 3].map((attempt) => ({ attempt, key: 'f1:call' })))
      expect(events.lines('f1').filter((line) => line.startsWith('step.failed'))).toEqual([
        'step.failed call',
        'step.failed call',
      ])
    })

    it('include a step that outlives its timeout; its signal is aborted', async () => {
      const { runner } = testRunner(redis)
      let aborted: unknown
      const saga = defineSaga('slow', { input: bookingInput }).step('call', {
        timeout: '50ms',
        retry: { attempts: 2, initialDelay: 5 },
        run: (ctx) =>
          ctx.attempt === 1
            ? new Promise((_, reject) =>
                ctx.signal.addEventListener('abort', () => {
                  aborted = ctx.signal.reason
                  reject(ctx.signal.reason)
                }),
              )
            : 'second time lucky',
      })
      const outcome = await runner.run(saga, { slot: 'x' }, { sagaId: 't1' })
      expect(outcome.results).toEqual({ call: 'second time lucky' })
      expect(aborted).toMatchObject({ code: 'SAGA_ERR_STEP_TIMEOUT' })
    })
  })

  describe('rolling back before the pivot', () => {
    it('a domain rejection at the pivot compensates the completed steps in reverse order', async () => {
      const { runner, ledger, events } = testRunner(redis)
      const outcome = await runner.run(
        bookingSaga(ledger),
        { slot: 'mon-9', rejectAtCommit: true },
        { sagaId: 'r1' },
      )

      expect(outcome).toMatchObject({
        state: 'compensated',
        error: {
          code: 'SAGA_ERR_DOMAIN_REJECTION',
          step: 'commit',
          domainCode: 'BOOKING_ERR_SLOT_TAKEN',
          details: { slot: 'mon-9' },
          message: 'slot mon-9 was taken',
        },
      })
      expect(await ledger.order()).toEqual(['hold', 'charge', 'refund', 'release'])
      expect(events.lines('r1').slice(-8)).toEqual([
        'step.started commit',
        'step.failed commit',
        'saga.compensating commit',
        'compensation.started charge',
        'compensation.completed charge',
        'compensation.started hold-slot',
        'compensation.completed hold-slot',
        'saga.compensated',
      ])
    })

    it('a rejection is not retried', async () => {
      const { runner } = testRunner(redis)
      let calls = 0
      const saga = defineSaga('no', { input: bookingInput }).step('a', {
        run: () => {
          calls++
          throw new DomainRejection('TEST_ERR_NO', 'no')
        },
      })
      expect((await runner.run(saga, { slot: 'x' }, { sagaId: 'n1' })).state).toBe('compensated')
      expect(calls).toBe(1)
    })

    it('exhausted retries before the pivot also compensate the failing step, which may have acted', async () => {
      const { runner, ledger } = testRunner(redis)
      const saga = defineSaga('half', { input: bookingInput })
        .step('hold-slot', holdSlot(ledger))
        .step('charge', {
          retry: { attempts: 2, initialDelay: 5 },
          run: async (ctx) => {
            await ledger.apply('charge', ctx.idempotencyKey)
            throw new Error('gateway timed out after charging')
          },
          compensate: async (ctx) => {
            expect(ctx.result).toBeUndefined()
            await ledger.apply('refund', ctx.idempotencyKey)
          },
        })
        .step('commit', { kind: 'pivot', run: () => 'never' })
      const outcome = await runner.run(saga, { slot: 'x' }, { sagaId: 'h1' })
      expect(outcome).toMatchObject({
        state: 'compensated',
        error: { code: 'SAGA_ERR_STEP_FAILED', step: 'charge', message: 'gateway timed out after charging' },
      })
      expect(await ledger.order()).toEqual(['hold', 'charge', 'refund', 'release'])
      expect(await ledger.calls()).toMatchObject({ charge: 2 })
    })
  })

  describe('after the pivot', () => {
    it('failures retry, then park the saga for an operator, and nothing is compensated', async () => {
      const { runner, ledger } = testRunner(redis)
      let down = true
      const saga = defineSaga('late', { input: bookingInput })
        .step('hold-slot', holdSlot(ledger))
        .step('commit', { kind: 'pivot', run: (ctx) => ledger.apply('commit', ctx.idempotencyKey) })
        .step('calendar', {
          retry: { attempts: 3, initialDelay: 5 },
          run: async (ctx) => {
            if (down) throw new Error('calendar API unavailable')
            await ledger.apply('calendar', ctx.idempotencyKey)
          },
        })
      const parked = await runner.run(saga, { slot: 'x' }, { sagaId: 'p1' })
      expect(parked).toMatchObject({
        state: 'parked',
        parkedStep: 'calendar',
        error: { message: 'calendar API unavailable' },
      })
      expect(await ledger.order()).toEqual(['hold', 'commit'])
      expect(await runner.operator.list('parked')).toEqual(['p1'])

      down = false
      const resumed = await runner.operator.retry('p1', { actor: 'ops@clinic' })
      expect(resumed.state).toBe('completed')
      expect(await ledger.order()).toEqual(['hold', 'commit', 'calendar'])
    })

    it('exhausted retries at the pivot park too: the commit may have happened', async () => {
      const { runner, ledger } = testRunner(redis)
      const saga = defineSaga('pivotal', { input: bookingInput })
        .step('hold-slot', holdSlot(ledger))
        .step('commit', {
          kind: 'pivot',
          retry: { attempts: 2, initialDelay: 5 },
          run: () => {
            throw new Error('database connection lost')
          },
        })
      const outcome = await runner.run(saga, { slot: 'x' }, { sagaId: 'v1' })
      expect(outcome).toMatchObject({ state: 'parked', parkedStep: 'commit' })
      expect(await ledger.order()).toEqual(['hold'])
    })

    it('a domain rejection after the pivot parks at once', async () => {
      const { runner } = testRunner(redis)
      let calls = 0
      const saga = defineSaga('after', { input: bookingInput })
        .step('commit', { kind: 'pivot', run: () => 'done' })
        .step('notify', {
          run: () => {
            calls++
            throw new DomainRejection('NOTIFY_ERR_ADDRESS', 'address unknown')
          },
        })
      expect(await runner.run(saga, { slot: 'x' }, { sagaId: 'a1' })).toMatchObject({
        state: 'parked',
        parkedStep: 'notify',
      })
      expect(calls).toBe(1)
    })
  })

  describe('input and options', () => {
    it('bad input is rejected before any step runs or anything is stored, with the field named', async () => {
      const { runner, ledger } = testRunner(redis)
      const run = runner.run(bookingSaga(ledger), { slot: 42 } as never, { sagaId: 'bad' })
      await expect(run).rejects.toThrow(SagaError)
      await expect(run).rejects.toMatchObject({
        code: 'SAGA_ERR_INVALID_INPUT',
        message: expect.stringContaining('input.slot'),
        details: { field: 'input.slot' },
      })
      expect(await ledger.calls()).toEqual({})
      expect(await runner.operator.inspect('bad')).toBeUndefined()
    })

    it('bad runner options name the field', () => {
      expect(() => testRunner(redis, { lease: -1 })).toThrow(/options\.lease: /)
      expect(() => testRunner(redis, { lease: 'soon' })).toThrow(/options\.lease: expected a duration/)
      expect(() => testRunner(redis, { keyPrefix: 'app:{x}:' })).toThrow(
        /options\.keyPrefix: must not contain/,
      )
      expect(() => createSagaRunner({})).toThrow(/options\.redis: give either `redis` or `store`/)
    })

    it('drives sagas on a store it was handed, and leaves that store open when it closes', async () => {
      const { prefix, ledger } = testRunner(redis)
      const store = testStore(redis, prefix)
      const runner = createSagaRunner({ store })
      expect((await runner.run(bookingSaga(ledger), { slot: 'x' }, { sagaId: 's1' })).state).toBe('completed')
      await runner.close()
      expect((await store.load('s1'))?.state).toBe('completed')
      await expect(runner.run(bookingSaga(ledger), { slot: 'x' }, { sagaId: 's2' })).rejects.toMatchObject({
        code: 'SAGA_ERR_CLOSED',
      })
    })

    it('an invalidating saga needs a cache, whether run or registered for recovery', async () => {
      const { runner } = testRunner(redis)
      const saga = defineSaga('inv', { input: bookingInput }).step(invalidateCache({ tags: ['t'] }))
      await expect(runner.run(saga, { slot: 'x' }, { sagaId: 'i1' })).rejects.toMatchObject({
        code: 'SAGA_ERR_INVALID_OPTIONS',
      })
      expect(() => testRunner(redis, { sagas: [saga] })).toThrow(/"inv" invalidates the cache/)
    })
  })

  describe('events', () => {
    it('a listener that throws does not break the saga', async () => {
      const { ledger } = testRunner(redis)
      const { runner } = testRunner(redis, {
        events: {
          emit: () => {
            throw new Error('metrics backend down')
          },
        },
      })
      expect((await runner.run(bookingSaga(ledger), { slot: 'x' }, { sagaId: 'e1' })).state).toBe('completed')
    })

    it('an async listener that rejects neither breaks the saga nor leaves an unhandled rejection', async () => {
      const unhandled: unknown[] = []
      const onUnhandled = (reason: unknown) => unhandled.push(reason)
      process.on('unhandledRejection', onUnhandled)
      try {
        let emitted = 0
        const { runner, ledger } = testRunner(redis, {
          events: {
            emit: async () => {
              emitted++
              throw new Error('tracing exporter down')
            },
          },
        })
        const outcome = await runner.run(bookingSaga(ledger), { slot: 'x' }, { sagaId: 'e2' })
        expect(outcome.state).toBe('completed')
        expect(emitted).toBeGreaterThan(0)
        // A rejection nobody handles is reported after the microtask queue drains: give it a macrotask.
        await new Promise((resolve) => setImmediate(resolve))
        expect(unhandled).toEqual([])
      } finally {
        process.off('unhandledRejection', onUnhandled)
      }
    })
  })

  describe('retention of finished sagas', () => {
    it('a sweep forgets sagas finished longer ago than retainFinished, never those waiting for an operator', async () => {
      const { runner, ledger } = testRunner(redis, { retainFinished: 1 })
      const saga = bookingSaga(ledger)
      await runner.run(saga, { slot: 'x' }, { sagaId: 'old-1' })
      const parked = defineSaga('late', { input: bookingInput })
        .step('commit', { kind: 'pivot', run: () => 1 })
        .step('notify', {
          run: () => {
            throw new DomainRejection('NOTIFY_ERR_ADDRESS', 'no address')
          },
        })
      await runner.run(parked, { slot: 'x' }, { sagaId: 'parked-1' })

      await eventually(async () => {
        await runner.recover()
        return (await runner.operator.inspect('old-1')) === undefined ? true : undefined
      })
      expect(await runner.operator.list('completed')).toEqual([])
      expect(await runner.operator.list('parked')).toEqual(['parked-1'])

      // Forgotten means forgotten: the same id is a new saga, which is why the default retention is long.
      await runner.run(saga, { slot: 'x' }, { sagaId: 'old-1' })
      expect(await ledger.calls()).toMatchObject({ hold: 2 })
    })
  })

  describe('the recovery sweep', () => {
    it('runs at start and then periodically, finishing sagas whose runner died, until close()', async () => {
      const { runner, ledger, prefix } = testRunner(redis, { sweepInterval: 20, lease: 100 })
      const saga = bookingSaga(ledger)
      // A runner that died right after creating two sagas: their leases expire and nobody renews them.
      const store = testStore(redis, prefix)
      await orphan(store, 'orphan-1', saga, { slot: 'a', rejectAtCommit: false }, 100)
      const recoverer = testRunner(redis, {
        keyPrefix: prefix,
        sweepInterval: '20ms',
        lease: 100,
        sagas: [saga],
      })
      recoverer.runner.start()
      await eventually(async () =>
        (await recoverer.runner.operator.list('completed')).includes('orphan-1') ? true : undefined,
      )
      await orphan(store, 'orphan-2', saga, { slot: 'b', rejectAtCommit: true }, 100)
      await eventually(async () =>
        (await recoverer.runner.operator.list('compensated')).includes('orphan-2') ? true : undefined,
      )
      await recoverer.runner.close()
      expect(await ledger.applied()).toEqual({
        hold: 2,
        charge: 2,
        commit: 1,
        notify: 1,
        refund: 1,
        release: 1,
      })
      expect(recoverer.events.lines('orphan-1')[0]).toBe('saga.resumed')

      // After close() an orphan stays put; only waiting can show that nothing happens (ten sweep intervals here).
      await orphan(store, 'orphan-3', saga, { slot: 'c', rejectAtCommit: false }, 10)
      await new Promise((resolve) => setTimeout(resolve, 200))
      expect(await runner.operator.list('running')).toEqual(['orphan-3'])
    })
  })
})
