import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { errorCode } from '@cachesaga/common'
import { injectTraceCarrier, otel } from '@cachesaga/common/tracing'
import type { Span } from '@opentelemetry/api'
import { z } from 'zod'
import type { SagaDefinition } from '../definition/define-saga.js'
import { SagaError } from '../errors.js'
import { emitSagaEvent } from '../events.js'
import { StoreRetryScheduler } from '../invalidation/retry-scheduler.js'
import { SagaOperator } from '../operator/saga-operator.js'
import { parseOrThrow } from '../parse.js'
import { RedisSagaStore } from '../store/redis/redis-saga-store.js'
import type { SagaChange } from '../store/saga-change.js'
import type { SagaRecord } from '../store/saga-record.js'
import type { Lease, NewSaga, SagaStore } from '../store/saga-store.js'
import { recordError } from './failure.js'
import { LeaseKeeper } from './lease.js'
import { type ResolvedRunnerOptions, runnerOptionsSchema, type SagaRunnerOptions } from './runner-options.js'
import { type DriverDeps, SagaDriver } from './saga-driver.js'
import { type SagaOutcome, toOutcome } from './saga-outcome.js'
import { ATTR, driveInSpan, linkToOrigin, type RunKind, tracing } from './saga-tracing.js'

const runOptionsSchema = z.object({ sagaId: z.string().min(1).max(200) })

/** How many orphans one sweep takes over, and how many finished sagas it forgets: the rest wait for the next. */
const SWEEP_BATCH = 100
const FORGET_BATCH = 200

/** A saga whose runner died, now leased by this runner. */
interface Orphan {
  definition: SagaDefinition
  lease: Lease
  record: SagaRecord
}

/** Runs sagas, resumes the ones whose runner died, and carries out operator decisions. */
export class SagaRunner {
  readonly operator: SagaOperator
  private readonly options: ResolvedRunnerOptions
  private readonly store: SagaStore
  /** True when the runner made its store (from `redis`) and so closes it; a store handed in is the caller's. */
  private readonly ownStore: boolean
  /** Settles once the store was found durable (or allowed not to be): checked before the first saga is driven. */
  private durable: Promise<void> | undefined
  private readonly deps: DriverDeps
  private readonly leases: LeaseKeeper
  private readonly definitions = new Map<string, SagaDefinition>()
  private readonly defaultScheduler: StoreRetryScheduler | undefined
  private readonly runnerId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`
  private tokens = 0
  private sweepTimer: NodeJS.Timeout | undefined
  private sweeping: Promise<unknown> | undefined
  /** Everything in progress that `close()` lets finish before it closes the store. */
  private readonly inFlight = new Set<Promise<unknown>>()
  private closing: Promise<void> | undefined

  constructor(options: SagaRunnerOptions) {
    this.options = parseOrThrow(runnerOptionsSchema, options, 'SAGA_ERR_INVALID_OPTIONS', 'options')
    const { redis, store, keyPrefix, connectTimeout, commandTimeout } = this.options
    this.ownStore = store === undefined
    this.store = store ?? new RedisSagaStore({ redis: redis!, keyPrefix, connectTimeout, commandTimeout })
    this.leases = new LeaseKeeper(this.store, this.options.lease)
    if (!this.options.retryScheduler) {
      this.defaultScheduler = new StoreRetryScheduler(this.store, this.options.sweepInterval)
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
      ready: () => this.ready(),
      readyToDrive: () => this.readyToDrive(),
    })
  }

  /**
   * Runs a saga to a resting state and returns it. Input is parsed first: a bad input fails with
   * SAGA_ERR_INVALID_INPUT before anything is stored. Redis is awaited for at most `connectTimeout`: unreachable, the
   * call fails with CS_ERR_REDIS_UNREACHABLE having run no step. The same `sagaId` again (a duplicate delivery, a
   * retry) never repeats completed steps: it waits for the current holder, if any, and returns the recorded outcome.
   */
  run<Schema extends z.ZodType, Results extends object>(
    definition: SagaDefinition<Schema, Results>,
    input: z.input<Schema>,
    options: { sagaId: string },
  ): Promise<SagaOutcome<Results>> {
    return this.track(async () => {
      const parsedInput = parseOrThrow(definition.input, input, 'SAGA_ERR_INVALID_INPUT', 'input')
      const { sagaId } = parseOrThrow(runOptionsSchema, options, 'SAGA_ERR_INVALID_OPTIONS', 'options')
      const erased = this.register(definition as unknown as SagaDefinition)
      const inputJson = serializeInput(parsedInput)
      const first = erased.steps[0]
      const changes: SagaChange[] = first
        ? [{ kind: 'phase', phase: 'step', step: first.name, status: 'started', attempt: 1 }]
        : []
      const create: NewSaga = { name: definition.name, inputJson, changes }
      const drive = async (span?: Span) => {
        await this.readyToDrive()
        // Kept with the saga if this call creates it, for the runs that resume it later to link back to.
        const traceCarrier = span && injectTraceCarrier()
        return this.driveToRest<Results>(
          erased,
          sagaId,
          traceCarrier ? { ...create, traceCarrier } : create,
          span,
        )
      }
      const tracer = tracing.tracer()
      return tracer === undefined ? drive() : driveInSpan(tracer, { name: definition.name, sagaId }, drive)
    })
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
        { details: { option: 'cache', saga: definition.name } },
      )
    }
    const transactional = definition.steps.find((step) => step.transaction)
    if (transactional && !this.store.stepTransactions) {
      throw new SagaError(
        'SAGA_ERR_INVALID_OPTIONS',
        `saga "${definition.name}", step "${transactional.name}" asks for a store transaction, and the store ` +
          `(${this.store.description}) offers none: pass a \`store\` with step transactions`,
        { details: { option: 'store', saga: definition.name, step: transactional.name } },
      )
    }
    this.definitions.set(definition.name, definition)
    return definition
  }

  /**
   * One recovery sweep: retries deferred invalidations, forgets finished sagas older than `retainFinished`, then
   * takes over every running or compensating saga whose lease expired (its runner died) and drives it on according to
   * its record. Returns the outcomes of those sagas.
   */
  recover(): Promise<SagaOutcome[]> {
    return this.track(async () => {
      const claimed = await this.sweepOnce()
      const outcomes = await Promise.all(claimed.map((orphan) => this.driveOrphan(orphan)))
      return outcomes.filter((outcome) => outcome !== undefined)
    })
  }

  /**
   * Sweeps now and then every `sweepInterval` until `close()`. A sweep does not wait for the sagas it resumed, so a
   * long retry in one of them never delays the next sweep (their live leases keep sweeps from taking them twice).
   */
  start(): void {
    if (this.sweepTimer || this.closing) return
    const sweep = () => {
      this.sweeping ??= this.sweepOnce()
        .then((claimed) => {
          for (const orphan of claimed) void this.track(() => this.driveOrphan(orphan))
        })
        .catch((error: unknown) => {
          // The store could not be read at all; the next sweep tries again.
          emitSagaEvent(this.options.events, 'recovery.failed', {
            sagaId: '',
            saga: '',
            error: recordError(error, 'SAGA_ERR_STORE_FAILED'),
          })
        })
        .finally(() => {
          this.sweeping = undefined
        })
    }
    sweep()
    this.sweepTimer = setInterval(sweep, this.options.sweepInterval)
  }

  /**
   * Stops sweeping, refuses new work (SAGA_ERR_CLOSED), lets the sagas this runner is driving reach their next rest
   * (each step is bounded by its timeout), then closes the store if the runner made it (from `redis`); a store handed
   * in as `store` stays open for its owner.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.sweepTimer)
      this.sweepTimer = undefined
      await this.sweeping
      while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight])
      this.leases.stop()
      if (this.ownStore) await this.store.close()
    })()
    return this.closing
  }

  private ready(): Promise<void> {
    return this.store.ready()
  }

  /**
   * The store is reachable and keeps what it acknowledges: checked once, before the first saga is driven (a store that
   * is not durable fails every call until it is, or, with `requireDurableStore: false`, is logged once and used).
   */
  private readyToDrive(): Promise<void> {
    this.durable ??= this.checkDurability().catch((error: unknown) => {
      this.durable = undefined
      throw error
    })
    return this.durable
  }

  private async checkDurability(): Promise<void> {
    await this.store.ready()
    try {
      await this.store.checkDurability()
    } catch (error) {
      const code = errorCode(error)
      const knowable = code === 'SAGA_ERR_STORE_NOT_DURABLE' || code === 'SAGA_ERR_STORE_DURABILITY_UNKNOWN'
      if (this.options.requireDurableStore || !knowable) throw error
      this.options.log(
        'warn',
        `driving sagas anyway (requireDurableStore: false): ${(error as Error).message}`,
        {
          code,
          ...(error as SagaError).details,
        },
      )
    }
  }

  /** Runs `work` as in-flight work of this runner, or refuses it once `close()` was called. */
  private track<T>(work: () => Promise<T>): Promise<T> {
    if (this.closing) {
      return Promise.reject(new SagaError('SAGA_ERR_CLOSED', 'the saga runner is closed'))
    }
    const running = work()
    this.inFlight.add(running)
    const forget = () => this.inFlight.delete(running)
    running.then(forget, forget)
    return running
  }

  /**
   * The work of one sweep: retries due invalidations, forgets one batch of old finished sagas, then takes the lease
   * of every orphan whose definition this runner has.
   */
  private async sweepOnce(): Promise<Orphan[]> {
    await this.readyToDrive()
    await this.retryDeferredInvalidations()
    await this.store.forgetFinished(this.options.retainFinished, FORGET_BATCH)
    const expired = await this.store.expiredLeases(SWEEP_BATCH)
    const claimed = await Promise.all(
      expired.map(async ({ sagaId, name }) => {
        const definition = this.definitions.get(name)
        if (!definition) return undefined
        const lease = this.newLease()
        const acquired = await this.store.acquire(sagaId, lease)
        return acquired.outcome === 'acquired' ? { definition, lease, record: acquired.record } : undefined
      }),
    )
    return claimed.filter((orphan) => orphan !== undefined)
  }

  /** Never rejects: a failure is emitted, and the saga's lease runs out for a later sweep to try again. */
  private async driveOrphan({ definition, lease, record }: Orphan): Promise<SagaOutcome | undefined> {
    const { sagaId } = record
    emitSagaEvent(this.options.events, 'saga.resumed', { sagaId, saga: definition.name, state: record.state })
    const drive = (span?: Span) => {
      if (span) {
        span.setAttribute(ATTR.run, 'resumed' satisfies RunKind)
        linkToOrigin(span, record)
      }
      return this.driveHeld(definition, lease, record)
    }
    const tracer = tracing.tracer()
    try {
      // A sweep is no request's work: its span starts a trace of its own, whatever context was active at start().
      return tracer === undefined
        ? await drive()
        : await driveInSpan(tracer, { name: definition.name, sagaId }, drive, { parent: otel!.ROOT_CONTEXT })
    } catch (error) {
      emitSagaEvent(this.options.events, 'recovery.failed', {
        sagaId,
        saga: definition.name,
        error: recordError(error, 'SAGA_ERR_STORE_FAILED'),
      })
      return undefined
    }
  }

  private resume(sagaId: string): Promise<SagaOutcome> {
    return this.track(async () => {
      await this.readyToDrive()
      const record = await this.store.load(sagaId)
      if (!record) throw new SagaError('SAGA_ERR_NOT_FOUND', `no saga "${sagaId}"`, { details: { sagaId } })
      const definition = this.definition(record.name)
      const tracer = tracing.tracer()
      return tracer === undefined
        ? this.driveToRest(definition, sagaId)
        : driveInSpan(tracer, { name: definition.name, sagaId }, (span) =>
            this.driveToRest(definition, sagaId, undefined, span),
          )
    })
  }

  private definition(name: string): SagaDefinition {
    const definition = this.definitions.get(name)
    if (!definition) {
      throw new SagaError(
        'SAGA_ERR_UNKNOWN_SAGA',
        `this runner has no definition of "${name}"; pass it in \`sagas\``,
        { details: { saga: name } },
      )
    }
    return definition
  }

  /**
   * Takes the lease (creating the saga when `create` is given) and drives it, or waits out another holder. `span`, the
   * run's span when tracing, learns how the run began.
   */
  private async driveToRest<Results>(
    definition: SagaDefinition,
    sagaId: string,
    create?: NewSaga,
    span?: Span,
  ): Promise<SagaOutcome<Results>> {
    for (;;) {
      const lease = this.newLease()
      const acquired = await this.store.acquire(sagaId, lease, create)
      switch (acquired.outcome) {
        case 'conflict':
          throw new SagaError(
            'SAGA_ERR_ID_CONFLICT',
            `saga id "${sagaId}" belongs to "${acquired.recordedName}"`,
            {
              details: { sagaId, saga: acquired.recordedName },
            },
          )
        case 'missing':
          throw new SagaError('SAGA_ERR_NOT_FOUND', `no saga "${sagaId}"`, { details: { sagaId } })
        case 'finished':
          if (span) {
            span.setAttribute(ATTR.run, 'recorded' satisfies RunKind)
            linkToOrigin(span, acquired.record)
          }
          return toOutcome<Results>(acquired.record)
        case 'busy':
          if (this.closing) throw new SagaError('SAGA_ERR_CLOSED', 'the saga runner is closed')
          await sleep(Math.min(250, this.options.lease / 4))
          continue
      }
      const { record } = acquired
      const created = acquired.outcome === 'created'
      if (span) {
        span.setAttribute(ATTR.run, (created ? 'new' : 'resumed') satisfies RunKind)
        if (!created) linkToOrigin(span, record)
      }
      emitSagaEvent(this.options.events, created ? 'saga.started' : 'saga.resumed', {
        sagaId,
        saga: definition.name,
        state: record.state,
      })
      const startedWithCreation = created ? create?.changes?.[0] : undefined
      const outcome = await this.driveHeld<Results>(
        definition,
        lease,
        record,
        startedWithCreation?.kind === 'phase' ? startedWithCreation.step : undefined,
      )
      if (outcome) return outcome
    }
  }

  /** Drives a saga whose lease this runner holds; undefined when another runner took the lease over meanwhile. */
  private async driveHeld<Results>(
    definition: SagaDefinition,
    lease: Lease,
    record: SagaRecord,
    startedWithCreation?: string,
  ): Promise<SagaOutcome<Results> | undefined> {
    const release = this.leases.hold(record.sagaId, lease)
    try {
      const driver = new SagaDriver(this.deps, definition, lease.token, record, startedWithCreation)
      await driver.drive()
      return toOutcome<Results>(driver.record)
    } catch (error) {
      if (errorCode(error) === 'SAGA_ERR_LEASE_LOST') return undefined
      throw error
    } finally {
      release()
    }
  }

  /** The default scheduler's due jobs; a retry that fails again is emitted and waits for a later sweep. */
  private async retryDeferredInvalidations(): Promise<void> {
    if (!this.defaultScheduler || !this.options.cache) return
    const { failed } = await this.defaultScheduler.retryDue(this.options.cache)
    for (const { job, error } of failed) {
      const record = await this.store.load(job.sagaId)
      emitSagaEvent(this.options.events, 'invalidation.retry_failed', {
        sagaId: job.sagaId,
        saga: record?.name ?? '',
        step: job.step,
        error,
      })
    }
  }

  private newLease(): Lease {
    this.tokens += 1
    return { token: `${this.runnerId}:${this.tokens}`, ms: this.options.lease }
  }
}

/** The input as stored: JSON, which steps receive after a crash as on the first run. */
function serializeInput(input: unknown): string {
  try {
    return JSON.stringify(input ?? null)
  } catch (error) {
    throw new SagaError(
      'SAGA_ERR_INVALID_INPUT',
      `input cannot be stored as JSON: ${(error as Error).message}`,
      {
        cause: error,
      },
    )
  }
}

/** Creates a runner; see `SagaRunnerOptions` for every option and its default. */
export function createSagaRunner(options: SagaRunnerOptions): SagaRunner {
  return new SagaRunner(options)
}
