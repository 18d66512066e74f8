import { setTimeout as sleep } from 'node:timers/promises'
import { errorCode } from '@cachesaga/common'
import type { Span } from '@opentelemetry/api'
import type { SagaDefinition } from '../definition/define-saga.js'
import { type RetryPolicy, retryDelay } from '../definition/retry-policy.js'
import type { CompensationContext, SagaStep, StepContext, StepServices } from '../definition/step.js'
import type { RecordedError } from '../errors.js'
import { emitSagaEvent, type SagaEvent, type SagaEventEmitter, type SagaEventName } from '../events.js'
import type { InvalidationRetryScheduler } from '../invalidation/retry-scheduler.js'
import type { SagaCache } from '../invalidation/saga-cache.js'
import { applyChanges, type PhaseChange, type SagaChange } from '../store/saga-change.js'
import type { PhaseStatus, SagaRecord, SagaState } from '../store/saga-record.js'
import type { SagaStore } from '../store/saga-store.js'
import { classifyFailure, type FailureKind, recordError, serializeResult } from './failure.js'
import { type AttemptAbort, runToOutcome, runWithTimeout } from './run-with-timeout.js'
import { endAttemptSpan, startAttemptSpan, tracing, withinSpan } from './saga-tracing.js'

/** What every driver of a runner shares. */
export interface DriverDeps {
  store: SagaStore
  events: SagaEventEmitter | undefined
  cache: SagaCache | undefined
  retryScheduler: InvalidationRetryScheduler
  compensationRetry: RetryPolicy
}

type Phase = 'step' | 'compensation'

type AttemptOutcome =
  /**
   * `value` is the stored result. `completion` is not written yet: it goes with the next write, which comes before any
   * other side effect (a step run in a store transaction has none left: the transaction wrote it).
   */
  | { ok: true; value: unknown; completion?: PhaseChange }
  /** `failure` is not written yet either: it goes with the saga's move to compensating, parked, ... */
  | { ok: false; kind: FailureKind; error: RecordedError; failure: PhaseChange }

/** The event announcing each phase transition; a rejection is announced as a failure, with its code. */
const PHASE_EVENTS: Record<Phase, Partial<Record<PhaseStatus, SagaEventName>>> = {
  step: {
    started: 'step.started',
    completed: 'step.completed',
    failed: 'step.failed',
    rejected: 'step.failed',
    deferred: 'invalidation.deferred',
  },
  compensation: {
    started: 'compensation.started',
    completed: 'compensation.completed',
    failed: 'compensation.failed',
    rejected: 'compensation.failed',
    deferred: 'invalidation.deferred',
    skipped: 'compensation.skipped',
  },
}

/** The event announcing each state a driver moves a saga to. */
const STATE_EVENTS: Partial<Record<SagaState, SagaEventName>> = {
  compensating: 'saga.compensating',
  completed: 'saga.completed',
  compensated: 'saga.compensated',
  parked: 'saga.parked',
  compensation_failed: 'saga.compensation_failed',
}

const isDone = (status: PhaseStatus | undefined) => status === 'completed' || status === 'skipped'
/** A step that got as far as "started" may have acted, unless it was rejected (a rejection means no change). */
const mayHaveActed = (status: PhaseStatus | undefined) => status !== undefined && status !== 'rejected'

/**
 * Drives one saga, holding its lease, from wherever its record says it is: forward through the steps not yet done,
 * or through the compensations not yet done. Every transition is recorded before it is announced, and "started"
 * before the side effect, so a runner that takes over after a crash repeats at most the step that was in flight (with
 * the same idempotency key). A step's completion is written together with the next step's start (or the saga's end):
 * one write between two side effects.
 */
export class SagaDriver {
  private readonly results: Record<string, unknown> = {}

  /**
   * @param record the saga as stored; the driver keeps it current as it writes, so it is the outcome at the end.
   * @param startedWithCreation the step whose start was written when the saga was created (the runner's first write).
   */
  constructor(
    private readonly deps: DriverDeps,
    private readonly definition: SagaDefinition,
    private readonly token: string,
    readonly record: SagaRecord,
    private startedWithCreation?: string,
  ) {
    for (const [name, phase] of record.steps)
      if (isDone(phase.status)) this.results[name] = phase.result ?? null
  }

  async drive(): Promise<void> {
    if (this.record.state === 'running') await this.forward()
    else if (this.record.state === 'compensating') await this.compensate([])
  }

  private async forward(): Promise<void> {
    const { steps, pivotIndex } = this.definition
    let pending: SagaChange[] = []
    for (const [index, step] of steps.entries()) {
      if (isDone(this.record.steps.get(step.name)?.status)) continue
      const outcome = await this.attempt('step', step, pending)
      if (outcome.ok) {
        this.results[step.name] = outcome.value
        pending = outcome.completion ? [outcome.completion] : []
        continue
      }
      // Rejected at the pivot: the commit did not happen. Failed at the pivot (retries used up, or a deterministic
      // failure such as a result that cannot be stored): the commit may have happened, so only a person can tell
      // whether rolling back is right.
      const rollBack = outcome.kind === 'rejection' ? index <= pivotIndex : index < pivotIndex
      const cause = { error: outcome.error, step: step.name }
      if (!rollBack) return this.write([outcome.failure, { kind: 'state', state: 'parked', ...cause }])
      return this.compensate([outcome.failure, { kind: 'state', state: 'compensating', ...cause }])
    }
    await this.write([...pending, { kind: 'state', state: 'completed' }])
  }

  /**
   * Compensates every step that may have acted: plain steps in reverse order, then the cache invalidations, which
   * must follow the last data-restoring compensation (see `invalidateCache`). `pending` are changes decided but not
   * yet written (the failure that started the rollback).
   */
  private async compensate(pending: SagaChange[]): Promise<void> {
    const begun = this.definition.steps.filter(
      (step) => step.compensate && mayHaveActed(this.record.steps.get(step.name)?.status),
    )
    const order = [
      ...begun.filter((step) => step.kind !== 'invalidation').reverse(),
      ...begun.filter((step) => step.kind === 'invalidation'),
    ]
    for (const step of order) {
      if (isDone(this.record.compensations.get(step.name)?.status)) continue
      // A target the cache refused going forward is never sent again: nothing was invalidated, nothing can be.
      const refused = this.record.steps.get(step.name)?.error
      if (step.kind === 'invalidation' && refused?.code === 'SAGA_ERR_INVALID_TARGET') {
        pending = [...pending, skipped(step.name, refused)]
        continue
      }
      const outcome = await this.attempt('compensation', step, pending)
      if (outcome.ok) {
        pending = outcome.completion ? [outcome.completion] : []
        continue
      }
      if (step.kind === 'invalidation' && outcome.error.code === 'SAGA_ERR_INVALID_TARGET') {
        pending = [skipped(step.name, outcome.error)]
        continue
      }
      const cause = { error: outcome.error, step: step.name }
      return this.write([outcome.failure, { kind: 'state', state: 'compensation_failed', ...cause }])
    }
    await this.write([...pending, { kind: 'state', state: 'compensated' }])
  }

  /**
   * Runs one step or compensation until it succeeds, fails for good, or uses up its retry budget. Its start is
   * written (with `pending`) before each attempt; a transient failure with attempts left is written at once, since a
   * backoff follows; the final failure or the completion is returned unwritten for the caller's next write.
   */
  private async attempt(phase: Phase, step: SagaStep, pending: SagaChange[]): Promise<AttemptOutcome> {
    const policy = phase === 'step' ? step.retry : this.deps.compensationRetry
    const phases = phase === 'step' ? this.record.steps : this.record.compensations
    let failures = phases.get(step.name)?.failures ?? 0
    for (;;) {
      const attempt = failures + 1
      const start: PhaseChange = { kind: 'phase', phase, step: step.name, status: 'started', attempt }
      if (this.startedWithCreation === step.name && phase === 'step') {
        // Written with the saga itself; announced now.
        this.startedWithCreation = undefined
        applyChanges(this.record, [start])
        this.announce([start])
      } else {
        await this.write([...pending, start])
      }
      pending = []
      const tracer = tracing.tracer()
      const span = tracer && startAttemptSpan(tracer, this.saga, phase, step, attempt)
      try {
        const outcome = await withinSpan(span, () => this.runAttempt(phase, step, attempt, span))
        endAttemptSpan(span, { outcome: 'completed' })
        return outcome
      } catch (thrown) {
        // A write inside the step (a deferred invalidation) found the lease gone: this runner must stop.
        if (errorCode(thrown) === 'SAGA_ERR_LEASE_LOST') {
          endAttemptSpan(span, { outcome: 'interrupted', thrown })
          throw thrown
        }
        const { kind, error } = classifyFailure(thrown, phase, step.name)
        const failure: PhaseChange = {
          kind: 'phase',
          phase,
          step: step.name,
          status: kind === 'rejection' ? 'rejected' : 'failed',
          attempt,
          error,
        }
        failures += 1
        const retrying = kind === 'transient' && failures < policy.attempts
        const outcome = retrying ? 'retrying' : kind === 'rejection' ? 'rejected' : 'failed'
        endAttemptSpan(span, { outcome, kind, error, thrown })
        if (!retrying) return { ok: false, kind, error, failure }
        await this.write([failure])
        await sleep(retryDelay(policy, failures))
      }
    }
  }

  /** One attempt, once its start is written: the step (or compensation) run to a result or a throw. */
  private async runAttempt(
    phase: Phase,
    step: SagaStep,
    attempt: number,
    span: Span | undefined,
  ): Promise<AttemptOutcome> {
    if (phase === 'step' && step.transaction) return this.attemptInTransaction(step, attempt, span)
    const resultJson = await runWithTimeout(step.timeoutMs, (abort) =>
      this.execute(phase, step, attempt, abort, span),
    )
    return {
      ok: true,
      value: resultJson === undefined ? undefined : JSON.parse(resultJson),
      completion: completed(phase, step.name, attempt, resultJson),
    }
  }

  /** What the spans of this saga's attempts say it is. */
  private get saga(): { name: string; sagaId: string } {
    return { name: this.definition.name, sagaId: this.record.sagaId }
  }

  /**
   * One attempt of a step declared `transaction: true`: the store runs it in a transaction that also records its
   * completion, and commits both or neither. A timeout aborts the transaction's signal; the outcome is what the store
   * reports (it may have been committing), never a guess.
   */
  private async attemptInTransaction(
    step: SagaStep,
    attempt: number,
    span: Span | undefined,
  ): Promise<AttemptOutcome> {
    // Checked when the definition was registered with the runner.
    const transactions = this.deps.store.stepTransactions!
    let completion: PhaseChange | undefined
    const resultJson = await runToOutcome(step.timeoutMs, (abort) =>
      transactions.run(
        { sagaId: this.record.sagaId, token: this.token },
        async (transaction) =>
          serializeResult(
            step.name,
            await step.run(
              this.context('step', step, attempt, abort, transaction),
              this.services('step', step, span),
            ),
          ),
        (json) => {
          completion = completed('step', step.name, attempt, json)
          return [completion]
        },
        abort.signal,
      ),
    )
    if (completion) {
      applyChanges(this.record, [completion])
      this.announce([completion])
    }
    return { ok: true, value: JSON.parse(resultJson) }
  }

  private context(
    phase: Phase,
    step: SagaStep,
    attempt: number,
    abort: AttemptAbort,
    transaction?: unknown,
  ): StepContext<unknown, Record<string, unknown>> & { result?: unknown } {
    const { sagaId } = this.record
    return {
      sagaId,
      input: this.record.input,
      results: { ...this.results },
      idempotencyKey: phase === 'step' ? `${sagaId}:${step.name}` : `${sagaId}:${step.name}:compensation`,
      attempt,
      get signal() {
        return abort.signal
      },
      ...(transaction !== undefined && { transaction }),
    }
  }

  /** Calls the step (or its compensation); a step's result comes back as the JSON that will be stored. */
  private async execute(
    phase: Phase,
    step: SagaStep,
    attempt: number,
    abort: AttemptAbort,
    span: Span | undefined,
  ): Promise<string | undefined> {
    const ctx = this.context(phase, step, attempt, abort)
    const services = this.services(phase, step, span)
    if (phase === 'step') return serializeResult(step.name, await step.run(ctx, services))
    const own = this.record.steps.get(step.name)
    ctx.result = own?.status === 'completed' ? own.result : undefined
    await step.compensate?.(ctx as CompensationContext<unknown, Record<string, unknown>, unknown>, services)
    return undefined
  }

  private services(phase: Phase, step: SagaStep, span: Span | undefined): StepServices {
    const { sagaId } = this.record
    return {
      cache: this.deps.cache,
      deferInvalidation: async (target, cause) => {
        const error = { ...recordError(cause, 'SAGA_ERR_INVALIDATION_FAILED'), step: step.name }
        span?.addEvent('cachesaga.invalidation_deferred', { 'error.type': error.code })
        // Scheduled before it is recorded: a crash in between re-runs the step, which schedules the same job id again.
        await this.deps.retryScheduler.schedule({
          id: `${sagaId}:${step.name}:${phase}`,
          sagaId,
          step: step.name,
          target,
          error,
        })
        await this.write([{ kind: 'phase', phase, step: step.name, status: 'deferred', error }])
      },
    }
  }

  /** Records the changes (fenced by the lease), then keeps the in-memory record current and announces them. */
  private async write(changes: SagaChange[]): Promise<void> {
    await this.deps.store.advance(this.record.sagaId, this.token, changes)
    applyChanges(this.record, changes)
    this.announce(changes)
  }

  /** Emits each change as its event, in order, after it was recorded. */
  private announce(changes: readonly SagaChange[]): void {
    if (!this.deps.events) return
    for (const change of changes) {
      if (change.kind === 'state') {
        const { state, error, step } = change
        const name = STATE_EVENTS[state]
        if (name) this.emit(name, { state, ...(error && { error }), ...(step !== undefined && { step }) })
        continue
      }
      const { phase, step, attempt, error, status } = change
      const details = { step, ...(attempt !== undefined && { attempt }), ...(error && { error }) }
      const name = PHASE_EVENTS[phase][status]
      if (name) this.emit(name, details)
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

/** A step's (or compensation's) completion, with the step's result as JSON. */
function completed(phase: Phase, step: string, attempt: number, resultJson: string | undefined): PhaseChange {
  return {
    kind: 'phase',
    phase,
    step,
    status: 'completed',
    attempt,
    ...(resultJson !== undefined && { resultJson }),
  }
}

/** A compensation with nothing it could do, recorded as done with the reason. */
function skipped(step: string, error: RecordedError): PhaseChange {
  return { kind: 'phase', phase: 'compensation', step, status: 'skipped', error }
}
