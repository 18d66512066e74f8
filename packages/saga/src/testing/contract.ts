import { randomUUID } from 'node:crypto'
import { extname } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { defineSaga } from '../definition/define-saga.js'
import type { InvalidationRetryJob } from '../invalidation/retry-scheduler.js'
import { createSagaRunner, type SagaRunner } from '../runtime/saga-runner.js'
import type { SagaStore } from '../store/saga-store.js'
import { bookingInput, bookingSaga } from './booking-saga.js'
import { type CrashDecision, inBatches, runCrashPointChild } from './crash-points.js'
import { EffectLedger } from './effects.js'
import { loadStoreFactory } from './store-factory.js'
import { create, error, eventually, lease, started } from './store-fixtures.js'

export interface SagaStoreContractOptions {
  /** Names the store in the suite's title. */
  name: string
  /**
   * Path (or `file:` URL) of a module whose default export makes a store on a fresh, empty namespace:
   * `(namespace: string) => SagaStore | Promise<SagaStore>`; every test takes its own namespace. A module rather than
   * a function because the crash-point tests make the same store in child processes (started with `--import tsx`, so
   * the module may be TypeScript): it finds its server in the environment, which the children inherit.
   */
  storeModule: string
  /**
   * For a store with step transactions: a business write through the transaction handle, and whether it was
   * committed. Without it the transaction tests check the saga's record only.
   */
  transactionProbe?: {
    write(transaction: unknown, key: string): Promise<void>
    committed(key: string): Promise<boolean>
  }
  /** Lease of the crash-point runners; the recovery waits for it to expire. Default 400 ms. */
  leaseMs?: number
}

/**
 * Declares the tests every `SagaStore` must pass: the store's own behaviour through the interface, a runner driving
 * sagas on it, the crash points (a child process SIGKILLed at every transition and inside every step, then a
 * recovering runner: every effect exactly once), a runner frozen past its lease, and, when the store offers them, step
 * transactions. Call it inside a vitest test file, after whatever starts the store's server.
 */
export function describeSagaStoreContract(options: SagaStoreContractOptions): void {
  const leaseMs = options.leaseMs ?? 400
  const runners: SagaRunner[] = []
  const stores: SagaStore[] = []
  afterEach(async () => {
    // Runners first: they drive on stores that must still be open.
    await Promise.all(runners.splice(0).map((runner) => runner.close()))
    await Promise.all(stores.splice(0).map((store) => store.close()))
  })

  const newNamespace = () => `contract-${randomUUID().slice(0, 8)}`
  async function newStore(namespace = newNamespace()): Promise<SagaStore> {
    const store = await (await loadStoreFactory(options.storeModule))(namespace)
    stores.push(store)
    return store
  }
  function runnerOn(
    store: SagaStore,
    more: Partial<Parameters<typeof createSagaRunner>[0]> = {},
  ): SagaRunner {
    const runner = createSagaRunner({
      store,
      lease: leaseMs,
      compensationRetry: { attempts: 3, initialDelay: 5, maxDelay: 20 },
      ...more,
    })
    runners.push(runner)
    return runner
  }

  describe(`SagaStore contract: ${options.name}`, () => {
    describe('the store', () => {
      it('is reachable and durable', async () => {
        const store = await newStore()
        await store.ready()
        await store.checkDurability()
        expect(store.description).not.toBe('')
      })

      it('creates a saga once, running and leased to its creator, with the changes written at creation', async () => {
        const store = await newStore()
        const created = await store.acquire('s1', lease('a'), { ...create, changes: [started('hold')] })
        expect(created).toMatchObject({
          outcome: 'created',
          record: { sagaId: 's1', name: 'book', state: 'running' },
        })
        expect(await store.acquire('s1', lease('b'), create)).toEqual({ outcome: 'busy', state: 'running' })
        expect(await store.load('s1')).toMatchObject({ input: { slot: 1 }, state: 'running' })
        expect((await store.load('s1'))?.steps.get('hold')).toEqual({ status: 'started', failures: 0 })
        expect((await store.readLog('s1')).map((entry) => entry.event)).toEqual([
          'saga.started',
          'step.started',
        ])
        expect(await store.listByState('running')).toEqual(['s1'])
      })

      it('lets another token take over once the lease has expired, with the record, and logs the takeover', async () => {
        const store = await newStore()
        await store.acquire('s1', lease('a', 50), create)
        const taken = await eventually(async () => {
          const result = await store.acquire('s1', lease('b'))
          return result.outcome === 'acquired' ? result : undefined
        })
        expect(taken.record).toMatchObject({ sagaId: 's1', name: 'book', state: 'running' })
        expect((await store.readLog('s1')).map((entry) => entry.event)).toEqual([
          'saga.started',
          'saga.resumed',
        ])
        await expect(store.advance('s1', 'a', [started('hold')])).rejects.toMatchObject({
          code: 'SAGA_ERR_LEASE_LOST',
        })
      })

      it('reports a missing saga, an id of another saga name, and a finished saga with its record', async () => {
        const store = await newStore()
        expect(await store.acquire('nope', lease('a'))).toEqual({ outcome: 'missing' })
        await store.acquire('s1', lease('a'), create)
        expect(await store.acquire('s1', lease('b'), { name: 'other', inputJson: '{}' })).toEqual({
          outcome: 'conflict',
          recordedName: 'book',
        })
        await store.advance('s1', 'a', [{ kind: 'state', state: 'completed' }])
        expect(await store.acquire('s1', lease('b'), create)).toMatchObject({
          outcome: 'finished',
          record: { state: 'completed' },
        })
      })

      it('renews the lease of its holder only', async () => {
        const store = await newStore()
        await store.acquire('s1', lease('a', 1_000), create)
        expect(await store.renewLease('s1', lease('a', 60_000))).toBe(true)
        expect(await store.renewLease('s1', lease('b', 60_000))).toBe(false)
      })

      it('refuses a write of a token that does not hold the lease, writing nothing', async () => {
        const store = await newStore()
        await store.acquire('s1', lease('a'), create)
        await expect(store.advance('s1', 'b', [started('hold')])).rejects.toMatchObject({
          code: 'SAGA_ERR_LEASE_LOST',
        })
        expect((await store.load('s1'))?.steps.size).toBe(0)
        expect(await store.readLog('s1')).toHaveLength(1)
      })

      it('keeps status, result, error and failures per step and phase, and logs every change in order', async () => {
        const store = await newStore()
        await store.acquire('s1', lease('a'), create)
        await store.advance('s1', 'a', [started('hold')])
        await store.advance('s1', 'a', [
          { kind: 'phase', phase: 'step', step: 'hold', status: 'failed', error },
        ])
        await store.advance('s1', 'a', [
          { kind: 'phase', phase: 'step', step: 'hold', status: 'rejected', error },
          { kind: 'phase', phase: 'step', step: 'hold', status: 'completed', resultJson: '{"holdId":7}' },
          started('charge'),
        ])
        await store.advance('s1', 'a', [
          { kind: 'phase', phase: 'compensation', step: 'hold', status: 'deferred', error },
        ])
        const record = await store.load('s1')
        expect(record?.steps.get('hold')).toEqual({
          status: 'completed',
          failures: 1,
          result: { holdId: 7 },
          error,
        })
        expect(record?.steps.get('charge')).toEqual({ status: 'started', failures: 0 })
        expect(record?.compensations.get('hold')).toEqual({ status: 'deferred', failures: 0, error })
        expect(record?.deferredInvalidations).toBe(1)
        const log = await store.readLog('s1')
        expect(log.slice(1).map((entry) => `${entry.event} ${entry.step}`)).toEqual([
          'step.started hold',
          'step.failed hold',
          'step.rejected hold',
          'step.completed hold',
          'step.started charge',
          'compensation.deferred hold',
        ])
        expect(log[2]).toMatchObject({ step: 'hold', error })
        expect(log.every((entry) => typeof entry.at === 'number')).toBe(true)
      })

      it('moves a saga between states; a resting state releases the lease and leaves the sweep', async () => {
        const store = await newStore()
        await store.acquire('s1', lease('a', 1), create)
        await store.advance('s1', 'a', [{ kind: 'state', state: 'compensating', error, step: 'hold' }])
        expect(await store.listByState('compensating')).toEqual(['s1'])
        await eventually(async () => ((await store.expiredLeases(10)).length > 0 ? true : undefined))
        await store.advance('s1', 'a', [
          { kind: 'phase', phase: 'compensation', step: 'hold', status: 'failed', error },
          { kind: 'state', state: 'compensation_failed', error, step: 'hold' },
        ])
        expect(await store.listByState('running')).toEqual([])
        expect(await store.listByState('compensating')).toEqual([])
        expect(await store.listByState('compensation_failed')).toEqual(['s1'])
        expect(await store.expiredLeases(10)).toEqual([])
        expect(await store.load('s1')).toMatchObject({
          state: 'compensation_failed',
          parkedStep: 'hold',
          error,
        })
        await expect(store.advance('s1', 'a', [started('again')])).rejects.toMatchObject({
          code: 'SAGA_ERR_LEASE_LOST',
        })
      })

      it('applies several state changes of one write in order', async () => {
        const store = await newStore()
        await store.acquire('s1', lease('a'), create)
        await store.advance('s1', 'a', [
          { kind: 'phase', phase: 'step', step: 'hold', status: 'rejected', error },
          { kind: 'state', state: 'compensating', error, step: 'hold' },
          { kind: 'state', state: 'compensated' },
        ])
        expect(await store.listByState('compensating')).toEqual([])
        expect(await store.listByState('compensated')).toEqual(['s1'])
        expect((await store.readLog('s1')).map((entry) => entry.event).slice(1)).toEqual([
          'step.rejected',
          'saga.compensating',
          'saga.compensated',
        ])
      })

      it('finds expired leases of many sagas, with their names, up to the limit', async () => {
        const store = await newStore()
        const ids = Array.from({ length: 20 }, (_, index) => `orphan-${index}`)
        for (const id of ids) await store.acquire(id, lease('dead', 1), create)
        await store.acquire('alive', lease('a', 60_000), create)
        const expired = await eventually(async () => {
          const found = await store.expiredLeases(100)
          return found.length === ids.length ? found : undefined
        })
        expect(expired.map(({ sagaId }) => sagaId).sort()).toEqual([...ids].sort())
        expect(new Set(expired.map(({ name }) => name))).toEqual(new Set(['book']))
        expect(await store.expiredLeases(5)).toHaveLength(5)
      })

      describe('operator decisions', () => {
        const parkOn = async (store: SagaStore, state: 'parked' | 'compensation_failed') => {
          await store.acquire('s1', lease('a', 60_000), create)
          const phase = state === 'parked' ? 'step' : 'compensation'
          await store.advance('s1', 'a', [
            { kind: 'phase', phase, step: 'hold', status: 'failed', error },
            { kind: 'state', state, error, step: 'hold' },
          ])
        }

        it('apply only to sagas waiting for an operator', async () => {
          const store = await newStore()
          await expect(store.decide('nope', 'retry', { actor: 'ann' })).rejects.toMatchObject({
            code: 'SAGA_ERR_NOT_FOUND',
          })
          await store.acquire('s1', lease('a', 60_000), create)
          await expect(store.decide('s1', 'retry', { actor: 'ann' })).rejects.toMatchObject({
            code: 'SAGA_ERR_INVALID_STATE',
          })
        })

        it('retry gives the waiting step a fresh budget, makes the saga claimable at once, and logs who', async () => {
          const store = await newStore()
          await parkOn(store, 'compensation_failed')
          expect(await store.decide('s1', 'retry', { actor: 'ann', note: 'gateway back' })).toBe(
            'compensating',
          )
          expect((await store.load('s1'))?.compensations.get('hold')?.failures).toBe(0)
          expect(await store.expiredLeases(10)).toEqual([{ sagaId: 's1', name: 'book' }])
          expect(await store.listByState('compensating')).toEqual(['s1'])
          expect((await store.readLog('s1')).at(-1)).toMatchObject({
            event: 'operator.retry',
            actor: 'ann',
            note: 'gateway back',
            step: 'hold',
            state: 'compensating',
          })
        })

        it('skip must name the waiting step, and marks it skipped with a null result', async () => {
          const store = await newStore()
          await parkOn(store, 'parked')
          await expect(store.decide('s1', 'skip', { actor: 'ann', step: 'other' })).rejects.toMatchObject({
            code: 'SAGA_ERR_INVALID_STATE',
          })
          expect(await store.decide('s1', 'skip', { actor: 'ann', step: 'hold' })).toBe('running')
          expect((await store.load('s1'))?.steps.get('hold')).toMatchObject({
            status: 'skipped',
            failures: 0,
            result: null,
          })
        })

        it('resolve closes the saga for good', async () => {
          const store = await newStore()
          await parkOn(store, 'parked')
          expect(await store.decide('s1', 'resolve', { actor: 'ann' })).toBe('resolved')
          expect(await store.listByState('resolved')).toEqual(['s1'])
          expect(await store.expiredLeases(10)).toEqual([])
        })
      })

      it('forgets sagas that ended longer ago than the retention, never younger ones or ones waiting', async () => {
        const store = await newStore()
        for (const id of ['old', 'young', 'parked']) await store.acquire(id, lease('a', 60_000), create)
        await store.advance('old', 'a', [{ kind: 'state', state: 'completed' }])
        await store.advance('parked', 'a', [{ kind: 'state', state: 'parked', step: 'hold' }])
        await sleep(2_000)
        await store.advance('young', 'a', [{ kind: 'state', state: 'completed' }])
        expect(await store.forgetFinished(1_000, 100)).toBe(1)
        expect(await store.load('old')).toBeUndefined()
        expect(await store.readLog('old')).toEqual([])
        expect(await store.listByState('completed')).toEqual(['young'])
        expect(await store.forgetFinished(1, 100)).toBe(1)
        expect((await store.load('parked'))?.state).toBe('parked')
      })

      it('keeps one invalidation retry per id, hides a claimed one, and forgets it when acknowledged', async () => {
        const store = await newStore()
        const job = (sagaId: string): InvalidationRetryJob => ({
          id: `${sagaId}:inv:step`,
          sagaId,
          step: 'inv',
          target: { tags: ['t'] },
          error: { code: 'CS_ERR_INVALIDATION_FAILED', name: 'E', message: 'x' },
        })
        await store.scheduleInvalidationRetry(job('s1'))
        await store.scheduleInvalidationRetry(job('s1'))
        for (let index = 0; index < 10; index++) await store.scheduleInvalidationRetry(job(`other-${index}`))
        const claimed = await store.claimInvalidationRetries(100, 60_000)
        expect(claimed.map(({ sagaId }) => sagaId).sort()).toEqual(
          ['s1', ...Array.from({ length: 10 }, (_, index) => `other-${index}`)].sort(),
        )
        expect(claimed.find(({ sagaId }) => sagaId === 's1')).toEqual(job('s1'))
        expect(await store.claimInvalidationRetries(100, 60_000)).toEqual([])
        for (const one of claimed) await store.ackInvalidationRetry(one)
        await store.scheduleInvalidationRetry(job('s2'))
        expect(await store.claimInvalidationRetries(100, 1)).toEqual([job('s2')])
        await sleep(20)
        expect(await store.claimInvalidationRetries(100, 60_000)).toEqual([job('s2')])
      })
    })

    describe('a runner on the store', () => {
      it('runs a saga to its end, and rolls one back, every effect once', async () => {
        const runner = runnerOn(await newStore())
        const ledger = new EffectLedger()
        expect((await runner.run(bookingSaga(ledger), { slot: 'a' }, { sagaId: 'r1' })).state).toBe(
          'completed',
        )
        const rejected = await runner.run(
          bookingSaga(ledger),
          { slot: 'b', rejectAtCommit: true },
          { sagaId: 'r2' },
        )
        expect(rejected).toMatchObject({
          state: 'compensated',
          error: { code: 'SAGA_ERR_DOMAIN_REJECTION', domainCode: 'BOOKING_ERR_SLOT_TAKEN', step: 'commit' },
        })
        expect(await ledger.applied()).toEqual({
          hold: 2,
          charge: 2,
          commit: 1,
          notify: 1,
          refund: 1,
          release: 1,
        })
        expect(await runner.operator.list('completed')).toEqual(['r1'])
      })

      it('runs a saga delivered twice at once only once, and both deliveries report the same outcome', async () => {
        const store = await newStore()
        const first = runnerOn(store)
        const second = runnerOn(store)
        const ledger = new EffectLedger()
        let release: () => void = () => {}
        const gate = new Promise<void>((resolve) => {
          release = resolve
        })
        let holding = 0
        const saga = bookingSaga(ledger, async (point) => {
          if (point !== 'effect:hold') return
          holding++
          await gate
        })
        const deliveries = [
          first.run(saga, { slot: 'mon-9' }, { sagaId: 'twice' }),
          second.run(saga, { slot: 'mon-9' }, { sagaId: 'twice' }),
        ]
        await eventually(async () => (holding > 0 ? true : undefined))
        release()
        const [a, b] = await Promise.all(deliveries)
        expect(a).toEqual(b)
        expect(a?.state).toBe('completed')
        expect(await ledger.calls()).toEqual({ hold: 1, charge: 1, commit: 1, notify: 1 })
      })
    })

    describeCrashPoints(options, leaseMs, newNamespace, newStore, runnerOn)
    describeStepTransactions(options, newStore, runnerOn)
  })
}

const CHILD = fileURLToPath(
  new URL(`./crash-child${extname(fileURLToPath(import.meta.url))}`, import.meta.url),
)

/** Runs the booking saga in the crash-point child (see `runCrashPointChild`). */
const runChild = (
  env: Record<string, string>,
  decide?: (point: string, index: number) => CrashDecision | Promise<CrashDecision>,
) => runCrashPointChild(CHILD, env, decide)

function describeCrashPoints(
  options: SagaStoreContractOptions,
  leaseMs: number,
  newNamespace: () => string,
  newStore: (namespace?: string) => Promise<SagaStore>,
  runnerOn: (store: SagaStore, more?: Partial<Parameters<typeof createSagaRunner>[0]>) => SagaRunner,
): void {
  /** Env of a child running a fresh booking saga on its own namespace, with its own ledger of effects. */
  const childEnv = (run: string, rejectAtCommit: boolean) => ({
    STORE_MODULE: options.storeModule,
    STORE_NAMESPACE: newNamespace(),
    SAGA_ID: `crash-${run}`,
    REJECT_AT_COMMIT: rejectAtCommit ? '1' : '0',
    LEASE_MS: String(leaseMs),
    LEDGER_FILE: new EffectLedger().file,
  })
  /** A runner as after a restart, on the child's namespace and ledger, that knows the booking saga. */
  const recoveringRunner = async (env: { STORE_NAMESPACE: string; LEDGER_FILE: string }) => {
    const ledger = new EffectLedger(env.LEDGER_FILE)
    const runner = runnerOn(await newStore(env.STORE_NAMESPACE), { sagas: [bookingSaga(ledger)] })
    return { runner, ledger }
  }
  /** Sweeps until the saga rests (the dead runner's lease has to expire first); returns its state. */
  const recoverUntilResting = (runner: SagaRunner, sagaId: string) =>
    eventually(async () => {
      await runner.recover()
      const inspection = await runner.operator.inspect(sagaId)
      const resting = inspection && !['running', 'compensating'].includes(inspection.record.state)
      return resting ? inspection.record.state : undefined
    }, 20_000)

  describe.each([
    {
      path: 'completes',
      rejectAtCommit: false,
      state: 'completed',
      effects: { hold: 1, charge: 1, commit: 1, notify: 1 },
    },
    {
      path: 'rolls back',
      rejectAtCommit: true,
      state: 'compensated',
      effects: { hold: 1, charge: 1, refund: 1, release: 1 },
    },
  ])('a saga that $path, SIGKILLed at every point', ({ rejectAtCommit, state, effects }) => {
    it('is driven to the same end by recovery, with every side effect applied exactly once', async () => {
      const { points } = await runChild(childEnv('dry', rejectAtCommit))
      expect(points).toContain('step.started hold-slot')
      expect(points).toContain('effect:hold')
      expect(points.at(-1)).toBe(`saga.${state}`)

      const runs = await inBatches(
        points.map((point, index) => async () => {
          const env = childEnv(String(index), rejectAtCommit)
          await runChild(env, (_, reached) => (reached === index ? 'kill' : 'continue'))
          const { runner, ledger } = await recoveringRunner(env)
          const recovered = await recoverUntilResting(runner, env.SAGA_ID)
          return { point, state: recovered, applied: await ledger.applied(), calls: await ledger.calls() }
        }),
        3,
      )
      for (const { point, calls, ...run } of runs) {
        expect({ point, ...run }).toEqual({ point, state, applied: effects })
        // Killed after its effect but before "completed" was recorded: the step ran again, with the same key.
        const effect = /^effect:(.+)$/.exec(point)?.[1]
        if (effect) expect(calls[effect]).toBe(2)
      }
    }, 180_000)
  })

  describe('a runner frozen past its lease', () => {
    it('cannot record anything once another runner took over, and then returns the outcome that runner recorded', async () => {
      const env = childEnv('frozen', false)
      const { runner, ledger } = await recoveringRunner(env)
      const { last } = await runChild(env, async (point): Promise<CrashDecision> => {
        // Frozen right after charging: no lease renewal, so the other runner takes over and finishes the saga.
        if (point === 'effect:charge')
          expect(await recoverUntilResting(runner, env.SAGA_ID)).toBe('completed')
        return 'continue'
      })
      expect(last).toBe('done completed')
      expect(await ledger.applied()).toEqual({ hold: 1, charge: 1, commit: 1, notify: 1 })
      expect(await ledger.calls()).toMatchObject({ charge: 2 })
      const log = (await runner.operator.inspect(env.SAGA_ID))?.log.map(
        (entry) => `${entry.event} ${entry.step ?? ''}`,
      )
      expect(log?.filter((line) => line === 'step.started charge')).toHaveLength(2)
      // The frozen child's "completed" for charge was refused: only the new holder's is in the log.
      expect(log?.filter((line) => line === 'step.completed charge')).toHaveLength(1)
    }, 60_000)
  })
}

function describeStepTransactions(
  options: SagaStoreContractOptions,
  newStore: () => Promise<SagaStore>,
  runnerOn: (store: SagaStore, more?: Partial<Parameters<typeof createSagaRunner>[0]>) => SagaRunner,
): void {
  const probe = options.transactionProbe
  /** commit (pivot, in the store's transaction) -> notify; `fail` makes commit throw after its business write. */
  const committing = (key: string, fail: { now: boolean }) =>
    defineSaga('commit-in-transaction', { input: bookingInput })
      .step('commit', {
        kind: 'pivot',
        transaction: true,
        retry: { attempts: 1 },
        run: async (ctx) => {
          expect(ctx.transaction).toBeDefined()
          await probe?.write(ctx.transaction, key)
          if (fail.now) throw new Error('constraint violated after the write')
          return { committed: key }
        },
      })
      .step('notify', { run: () => 'sent' })

  describe('step transactions', () => {
    it('are offered, or a runner refuses a step that asks for one', async () => {
      const store = await newStore()
      const runner = runnerOn(store)
      const saga = committing(randomUUID(), { now: false })
      if (store.stepTransactions) {
        expect((await runner.run(saga, { slot: 'x' }, { sagaId: 't0' })).state).toBe('completed')
      } else {
        await expect(runner.run(saga, { slot: 'x' }, { sagaId: 't0' })).rejects.toMatchObject({
          code: 'SAGA_ERR_INVALID_OPTIONS',
          details: { option: 'store', step: 'commit' },
        })
      }
    })

    it('commit the business write with the record of the step, or neither', async () => {
      const store = await newStore()
      if (!store.stepTransactions) return
      const runner = runnerOn(store)
      const kept = randomUUID()
      const outcome = await runner.run(committing(kept, { now: false }), { slot: 'x' }, { sagaId: 't1' })
      expect(outcome).toMatchObject({ state: 'completed', results: { commit: { committed: kept } } })
      expect((await store.load('t1'))?.steps.get('commit')).toMatchObject({ status: 'completed' })
      if (probe) expect(await probe.committed(kept)).toBe(true)

      const rolledBack = randomUUID()
      const failed = await runner.run(committing(rolledBack, { now: true }), { slot: 'x' }, { sagaId: 't2' })
      expect(failed).toMatchObject({ state: 'parked', parkedStep: 'commit' })
      expect((await store.load('t2'))?.steps.get('commit')).toMatchObject({ status: 'failed' })
      if (probe) expect(await probe.committed(rolledBack)).toBe(false)
    })

    it('refuse a runner that lost its lease: nothing of the step commits', async () => {
      const store = await newStore()
      const transactions = store.stepTransactions
      if (!transactions) return
      await store.acquire(
        't3',
        { token: 'holder', ms: 60_000 },
        { name: 'x', inputJson: '{}', changes: [started('s')] },
      )
      const key = randomUUID()
      await expect(
        transactions.run(
          { sagaId: 't3', token: 'not-the-holder' },
          (transaction) => probe?.write(transaction, key) ?? Promise.resolve(),
          () => [{ kind: 'phase', phase: 'step', step: 's', status: 'completed', resultJson: 'null' }],
          new AbortController().signal,
        ),
      ).rejects.toMatchObject({ code: 'SAGA_ERR_LEASE_LOST' })
      expect((await store.load('t3'))?.steps.get('s')).toMatchObject({ status: 'started' })
      if (probe) expect(await probe.committed(key)).toBe(false)
    })
  })
}
