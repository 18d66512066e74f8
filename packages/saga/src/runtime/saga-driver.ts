import { setTimeout as sleep } from 'node:timers/promises'
import type { SagaDefinition } from '../definition/define-saga.js'
import { type RetryPolicy, retryDelay } from '../definition/retry-policy.js'
import type { SagaStep, StepContext, StepServices } from '../definition/step.js'
import { DomainRejection, type RecordedError, recordError } from '../errors.js'
import { emitSagaEvent, type SagaEvent, type SagaEventEmitter, type SagaEventName } from '../events.js'
import type { InvalidationRetryScheduler } from '../invalidation/retry-scheduler.js'
import type { SagaCache } from '../invalidation/saga-cache.js'
import type { PhaseStatus, SagaRecord } from '../store/saga-record.js'
import type { SagaStore } from '../store/saga-store.js'
import { runWithTimeout } from './run-with-timeout.js'

/** What every driver of a runner shares. */
export interface DriverDeps {
  store: SagaStore
  events: SagaEventEmitter | undefined
  cache: SagaCache | undefined
  retryScheduler: InvalidationRetryScheduler
  compensationRetry: RetryPolicy
}

type Phase = 'step' | 'compensation'
type AttemptOutcome = { ok: true; value: unknown } | { ok: false; error: RecordedError; rejected: boolean }

const isDone = (status: PhaseStatus | undefined) => status === 'completed' || status === 'skipped'
/** A step that got as far as "started" may have acted, unless it was rejected (a rejection means no change). */
const mayHaveActed = (status: PhaseStatus | undefined) => status !== undefined && status !== 'rejected'

/**
 * Drives one saga, holding its lease, from wherever its log says it is: forward through the steps not yet done, or
 * through the compensations not yet done. Every transition is recorded before it is announced, and "started" before
 * the side effect, so a runner that takes over after a crash repeats at most the step that was in flight (with the
 * same idempotency key).
 */
export class SagaDriver {
  private readonly results: Record<string, unknown> = {}

  constructor(
    private readonly deps: DriverDeps,
    private readonly definition: SagaDefinition,
    private readonly token: string,
    private record: SagaRecord,
  ) {
    for (const [name, log] of record.steps) if (isDone(log.status)) this.results[name] = log.result ?? null
  }

  async drive(): Promise<void> {
    if (this.record.state === 'running') await this.forward()
    else if (this.record.state === 'compensating') await this.compensate()
  }

  private async forward(): Promise<void> {
    const { steps, pivotIndex } = this.definition
    for (const [index, step] of steps.entries()) {
      const log = this.record.steps.get(step.name)
      if (isDone(log?.status)) continue
      const outcome = await this.attempt('step', step, log?.failures ?? 0, step.retry)
      if (outcome.ok) {
        this.results[step.name] = outcome.value
        continue
      }
      // A rejection at the pivot means the commit did not happen; an exhausted retry at the pivot may have committed,
      // so only a person can tell whether rolling back is right.
      const rollBack = outcome.rejected ? index <= pivotIndex : index < pivotIndex
      const failure = { error: outcome.error, step: step.name }
      if (!rollBack) return this.transition('parked', failure)
      await this.transition('compensating', failure)
      this.record = (await this.deps.store.load(this.record.sagaId)) ?? this.record
      return this.compensate()
    }
    await this.transition('completed')
  }

  /**
   * Compensates every step that may have acted: plain steps in reverse order, then the cache invalidations, which
   * must follow the last data-restoring compensation (see `invalidateCache`).
   */
  private async compensate(): Promise<void> {
    const begun = this.definition.steps.filter(
      (step) => step.compensate && mayHaveActed(this.record.steps.get(step.name)?.status),
    )
    const order = [
      ...begun.filter((step) => step.kind !== 'invalidation').reverse(),
      ...begun.filter((step) => step.kind === 'invalidation'),
    ]
    for (const step of order) {
      const log = this.record.compensations.get(step.name)
      if (isDone(log?.status)) continue
      const outcome = await this.attempt(
        'compensation',
        step,
        log?.failures ?? 0,
        this.deps.compensationRetry,
      )
      if (!outcome.ok)
        return this.transition('compensation_failed', { error: outcome.error, step: step.name })
    }
    await this.transition('compensated')
  }

  /** Records the saga's new state, then announces it as `saga.<state>`; `failure.step` is the step that failed. */
  private async transition(
    state: 'compensating' | 'completed' | 'compensated' | 'parked' | 'compensation_failed',
    failure?: { error: RecordedError; step: string },
  ): Promise<void> {
    const waitsOnStep = state === 'parked' || state === 'compensation_failed'
    await this.deps.store.setState(this.record.sagaId, this.token, state, {
      ...(failure && { error: failure.error }),
      ...(failure && waitsOnStep && { parkedStep: failure.step }),
    })
    this.emit(`saga.${state}`, { state, ...failure })
  }

  /** Runs one step or compensation until it succeeds, is rejected, or uses up `policy`. */
  private async attempt(
    phase: Phase,
    step: SagaStep,
    failures: number,
    policy: RetryPolicy,
  ): Promise<AttemptOutcome> {
    const { store } = this.deps
    const { sagaId } = this.record
    for (let failed = failures; ; ) {
      const attempt = failed + 1
      await store.recordPhase(sagaId, this.token, phase, step.name, 'started')
      this.emit(`${phase}.started`, { step: step.name, attempt })
      let resultJson: string | undefined
      try {
        resultJson = await runWithTimeout(step.timeoutMs, (signal) =>
          this.execute(phase, step, attempt, signal),
        )
      } catch (thrown) {
        const error = recordError(thrown)
        const rejected = phase === 'step' && thrown instanceof DomainRejection
        failed = await store.recordPhase(
          sagaId,
          this.token,
          phase,
          step.name,
          rejected ? 'rejected' : 'failed',
          {
            error,
            countsAsFailure: !rejected,
          },
        )
        this.emit(`${phase}.failed`, { step: step.name, attempt, error })
        if (rejected || failed >= policy.attempts) return { ok: false, error, rejected }
        await sleep(retryDelay(policy, failed))
        continue
      }
      await store.recordPhase(sagaId, this.token, phase, step.name, 'completed', { resultJson })
      this.emit(`${phase}.completed`, { step: step.name, attempt })
      return { ok: true, value: resultJson === undefined ? undefined : JSON.parse(resultJson) }
    }
  }

  /** Calls the step (or its compensation); a step's result comes back as the JSON that will be stored. */
  private async execute(
    phase: Phase,
    step: SagaStep,
    attempt: number,
    signal: AbortSignal,
  ): Promise<string | undefined> {
    const { sagaId } = this.record
    const ctx: StepContext<unknown, Record<string, unknown>> = {
      sagaId,
      input: this.record.input,
      results: { ...this.results },
      idempotencyKey: phase === 'step' ? `${sagaId}:${step.name}` : `${sagaId}:${step.name}:compensation`,
      attempt,
      signal,
    }
    const services = this.services(phase, step)
    if (phase === 'step') return JSON.stringify((await step.run(ctx, services)) ?? null)
    const own = this.record.steps.get(step.name)
    await step.compensate?.(
      { ...ctx, result: own?.status === 'completed' ? own.result : undefined },
      services,
    )
    return undefined
  }

  private services(phase: Phase, step: SagaStep): StepServices {
    const { sagaId } = this.record
    return {
      cache: this.deps.cache,
      deferInvalidation: async (target, cause) => {
        const error = recordError(cause)
        // Scheduled before it is recorded: a crash in between re-runs the step, which schedules the same job id again.
        await this.deps.retryScheduler.schedule({
          id: `${sagaId}:${step.name}:${phase}`,
          sagaId,
          step: step.name,
          target,
          error,
        })
        await this.deps.store.recordPhase(sagaId, this.token, phase, step.name, 'deferred', { error })
        this.emit('invalidation.deferred', { step: step.name, error })
      },
    }
  }

  private emit(name: SagaEventName, details: Omit<SagaEvent, 'sagaId' | 'saga'>): void {
    emitSagaEvent(this.deps.events, name, {
      sagaId: this.record.sagaId,
      saga: this.definition.name,
      ...details,
    })
  }
}
