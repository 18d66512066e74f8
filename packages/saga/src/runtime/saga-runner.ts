import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { z } from 'zod'
import type { SagaDefinition } from '../definition/define-saga.js'
import { recordError, SagaError } from '../errors.js'
import { emitSagaEvent } from '../events.js'
import { RedisInvalidationRetryScheduler } from '../invalidation/retry-scheduler.js'
import { SagaOperator } from '../operator/saga-operator.js'
import { parseOrThrow } from '../parse.js'
import { SagaStore } from '../store/saga-store.js'
import { keepLease } from './lease.js'
import { type ResolvedRunnerOptions, runnerOptionsSchema, type SagaRunnerOptions } from './runner-options.js'
import { type DriverDeps, SagaDriver } from './saga-driver.js'
import { type SagaOutcome, toOutcome } from './saga-outcome.js'

const runOptionsSchema = z.object({ sagaId: z.string().min(1).max(200) })

const FINAL_STATES = ['completed', 'compensated', 'resolved'] as const
type FinalState = (typeof FINAL_STATES)[number]

/** A saga whose runner died, now leased by this runner under `token`. */
interface Orphan {
  definition: SagaDefinition
  sagaId: string
  token: string
}

/** Runs sagas, resumes the ones whose runner died, and carries out operator decisions. */
export class SagaRunner {
  readonly operator: SagaOperator
  private readonly options: ResolvedRunnerOptions
  private readonly store: SagaStore
  private readonly deps: DriverDeps
  private readonly definitions = new Map<string, SagaDefinition>()
  private readonly defaultScheduler: RedisInvalidationRetryScheduler | undefined
  private readonly runnerId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`
  private tokens = 0
  private sweepTimer: NodeJS.Timeout | undefined
  private sweeping: Promise<unknown> | undefined
  /** Where each final state's index scan for `retainFinishedMs` resumes at the next sweep. */
  private readonly forgetCursors: Record<FinalState, string> = {
    completed: '0',
    compensated: '0',
    resolved: '0',
  }

  constructor(options: SagaRunnerOptions) {
    this.options = parseOrThrow(runnerOptionsSchema, options, 'SAGA_ERR_INVALID_OPTIONS', 'options')
    this.store = new SagaStore(this.options.redis, this.options.keyPrefix)
    if (!this.options.retryScheduler) {
      this.defaultScheduler = new RedisInvalidationRetryScheduler(
        this.options.redis,
        this.store.retryKeys,
        this.options.sweepIntervalMs,
      )
    }
    this.deps = {
      store: this.store,
      events: this.options.events,
      cache: this.options.cache,
      retryScheduler: this.options.retryScheduler ?? this.defaultScheduler!,
      compensationRetry: this.options.compensationRetry,
    }
    for (const definition of this.options.sagas) this.register(definition)
    this.operator = new SagaOperator(this.store, this.options.events, {
      assertKnown: (name) => this.definition(name),
      resume: (sagaId) => this.resume(sagaId),
    })
  }

  /**
   * Runs a saga to a resting state and returns it. Input is parsed first: a bad input fails with
   * SAGA_ERR_INVALID_INPUT before anything is stored. The same `sagaId` again (a duplicate delivery, a retry) never
   * repeats completed steps: it waits for the current holder, if any, and returns the recorded outcome.
   */
  async run<Schema extends z.ZodType, Results extends object>(
    definition: SagaDefinition<Schema, Results>,
    input: z.input<Schema>,
    options: { sagaId: string },
  ): Promise<SagaOutcome<Results>> {
    const parsedInput = parseOrThrow(definition.input, input, 'SAGA_ERR_INVALID_INPUT', 'input')
    const { sagaId } = parseOrThrow(runOptionsSchema, options, 'SAGA_ERR_INVALID_OPTIONS', 'options')
    const erased = this.register(definition as unknown as SagaDefinition)
    return this.driveToRest<Results>(erased, sagaId, { name: definition.name, input: parsedInput })
  }

  /**
   * Makes a definition resumable by this runner. Checked here, not when a step runs: a missing cache found by a
   * recovery sweep would otherwise fail an invalidation step and roll back a booking over a configuration mistake.
   */
  private register(definition: SagaDefinition): SagaDefinition {
    if (!this.options.cache && definition.steps.some((step) => step.kind === 'invalidation')) {
      throw new SagaError(
        'SAGA_ERR_INVALID_OPTIONS',
        `saga "${definition.name}" invalidates the cache: pass \`cache\``,
      )
    }
    this.definitions.set(definition.name, definition)
    return definition
  }

  /**
   * One recovery sweep: retries deferred invalidations, forgets finished sagas older than `retainFinishedMs`, then
   * takes over every running or compensating saga whose lease expired (its runner died) and drives it on according to
   * its log. Returns the outcomes of those sagas.
   */
  async recover(): Promise<SagaOutcome[]> {
    const claimed = await this.sweepOnce()
    const outcomes = await Promise.all(claimed.map((orphan) => this.driveOrphan(orphan)))
    return outcomes.filter((outcome) => outcome !== undefined)
  }

  /**
   * Sweeps now and then every `sweepIntervalMs` until `close()`. A sweep does not wait for the sagas it resumed, so a
   * long retry in one of them never delays the next sweep (their live leases keep sweeps from taking them twice).
   */
  start(): void {
    if (this.sweepTimer) return
    const sweep = () => {
      this.sweeping ??= this.sweepOnce()
        .then((claimed) => {
          for (const orphan of claimed) void this.driveOrphan(orphan)
        })
        .catch((error: unknown) => {
          // Redis could not be read at all; the next sweep tries again.
          emitSagaEvent(this.options.events, 'recovery.failed', {
            sagaId: '',
            saga: '',
            error: recordError(error),
          })
        })
        .finally(() => {
          this.sweeping = undefined
        })
    }
    sweep()
    this.sweepTimer = setInterval(sweep, this.options.sweepIntervalMs)
  }

  /**
   * Stops sweeping and waits for a sweep in progress to finish claiming. Sagas already being driven (by `run()` or by
   * a sweep) finish on their own.
   */
  async close(): Promise<void> {
    clearInterval(this.sweepTimer)
    this.sweepTimer = undefined
    await this.sweeping
  }

  /**
   * The work of one sweep: retries due invalidations, forgets one batch of old finished sagas per final state, then
   * takes the lease of every orphan whose definition this runner has.
   */
  private async sweepOnce(): Promise<Orphan[]> {
    await this.retryDeferredInvalidations()
    await this.forgetFinishedSagas()
    const ids = await this.store.expiredLeases(100)
    const names = await this.store.names(ids)
    const claimed = await Promise.all(
      ids.map(async (sagaId, index) => {
        const definition = this.definitions.get(names[index] ?? '')
        if (!definition) return undefined
        const token = this.newToken()
        const { outcome } = await this.store.acquire(sagaId, token, this.options.leaseMs)
        return outcome === 'acquired' ? { definition, sagaId, token } : undefined
      }),
    )
    return claimed.filter((orphan) => orphan !== undefined)
  }

  /** Never rejects: a failure is emitted, and the saga's lease runs out for a later sweep to try again. */
  private async driveOrphan(orphan: Orphan): Promise<SagaOutcome | undefined> {
    const { definition, sagaId, token } = orphan
    emitSagaEvent(this.options.events, 'saga.resumed', { sagaId, saga: definition.name })
    try {
      return await this.driveHeld(definition, sagaId, token)
    } catch (error) {
      emitSagaEvent(this.options.events, 'recovery.failed', {
        sagaId,
        saga: definition.name,
        error: recordError(error),
      })
      return undefined
    }
  }

  private async resume(sagaId: string): Promise<SagaOutcome> {
    const [name] = await this.store.names([sagaId])
    if (name === null || name === undefined) throw new SagaError('SAGA_ERR_NOT_FOUND', `no saga "${sagaId}"`)
    return this.driveToRest(this.definition(name), sagaId)
  }

  private definition(name: string): SagaDefinition {
    const definition = this.definitions.get(name)
    if (!definition) {
      throw new SagaError(
        'SAGA_ERR_UNKNOWN_SAGA',
        `this runner has no definition of "${name}"; pass it in \`sagas\``,
      )
    }
    return definition
  }

  /** Takes the lease (creating the saga when `create` is given) and drives it, or waits out another holder. */
  private async driveToRest<Results>(
    definition: SagaDefinition,
    sagaId: string,
    create?: { name: string; input: unknown },
  ): Promise<SagaOutcome<Results>> {
    for (;;) {
      const token = this.newToken()
      const acquired = await this.store.acquire(sagaId, token, this.options.leaseMs, create)
      if (acquired.outcome === 'conflict') {
        throw new SagaError(
          'SAGA_ERR_ID_CONFLICT',
          `saga id "${sagaId}" belongs to "${acquired.recordedName}"`,
        )
      }
      if (acquired.outcome === 'missing') throw new SagaError('SAGA_ERR_NOT_FOUND', `no saga "${sagaId}"`)
      if (acquired.outcome === 'finished') return this.outcome(sagaId)
      if (acquired.outcome === 'busy') {
        await sleep(Math.min(250, this.options.leaseMs / 4))
        continue
      }
      const event = acquired.outcome === 'created' ? 'saga.started' : 'saga.resumed'
      emitSagaEvent(this.options.events, event, { sagaId, saga: definition.name, state: acquired.state })
      const outcome = await this.driveHeld<Results>(definition, sagaId, token)
      if (outcome) return outcome
    }
  }

  /** Drives a saga whose lease `token` holds; undefined when another runner took the lease over meanwhile. */
  private async driveHeld<Results>(
    definition: SagaDefinition,
    sagaId: string,
    token: string,
  ): Promise<SagaOutcome<Results> | undefined> {
    const lease = keepLease(this.store, sagaId, token, this.options.leaseMs)
    try {
      const record = await this.store.load(sagaId)
      if (!record) throw new SagaError('SAGA_ERR_NOT_FOUND', `no saga "${sagaId}"`)
      await new SagaDriver(this.deps, definition, token, record).drive()
    } catch (error) {
      if (error instanceof SagaError && error.code === 'SAGA_ERR_LEASE_LOST') return undefined
      throw error
    } finally {
      lease.stop()
    }
    return this.outcome(sagaId)
  }

  private async outcome<Results>(sagaId: string): Promise<SagaOutcome<Results>> {
    const record = await this.store.load(sagaId)
    if (!record) throw new SagaError('SAGA_ERR_NOT_FOUND', `no saga "${sagaId}"`)
    return toOutcome<Results>(record)
  }

  /** The default scheduler's due jobs; a retry that fails again is emitted and waits for a later sweep. */
  private async retryDeferredInvalidations(): Promise<void> {
    if (!this.defaultScheduler || !this.options.cache) return
    const { failed } = await this.defaultScheduler.retryDue(this.options.cache)
    const names = await this.store.names(failed.map(({ job }) => job.sagaId))
    failed.forEach(({ job, error }, index) => {
      emitSagaEvent(this.options.events, 'invalidation.retry_failed', {
        sagaId: job.sagaId,
        saga: names[index] ?? '',
        step: job.step,
        error,
      })
    })
  }

  /** One batch per final state, resuming each index scan where the last sweep left it. */
  private async forgetFinishedSagas(): Promise<void> {
    for (const state of FINAL_STATES) {
      const { cursor } = await this.store.forgetFinished(
        state,
        this.forgetCursors[state],
        this.options.retainFinishedMs,
      )
      this.forgetCursors[state] = cursor
    }
  }

  private newToken(): string {
    this.tokens += 1
    return `${this.runnerId}:${this.tokens}`
  }
}

/** Creates a runner; see `SagaRunnerOptions` for every option and its default. */
export function createSagaRunner(options: SagaRunnerOptions): SagaRunner {
  return new SagaRunner(options)
}
