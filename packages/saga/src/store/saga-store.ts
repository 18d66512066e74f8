import type { InvalidationRetryJob } from '../invalidation/retry-scheduler.js'
import type { SagaChange } from './saga-change.js'
import type { SagaLogEntry, SagaRecord, SagaState } from './saga-record.js'

/** A lease request: `token` is unique per acquisition, `ms` how long it lasts without renewal. */
export interface Lease {
  token: string
  ms: number
}

/** What `acquire` creates when the saga is missing. */
export interface NewSaga {
  name: string
  /** The parsed input as JSON; steps always receive it as stored. */
  inputJson: string
  /** Changes applied in the same write, right after creating it: the start of its first step. */
  changes?: readonly SagaChange[]
  /**
   * The trace context the saga was started in (a propagator's fields, W3C `traceparent` by default), when the runner
   * traces: kept in the record so that a runner that resumes the saga later (a recovery sweep, an operator's retry)
   * links its span to the original trace. A store should keep it; one that does not only loses those links.
   */
  traceCarrier?: Readonly<Record<string, string>>
}

export type AcquireOutcome =
  /** The lease is the caller's; `record` is the saga as stored, so the caller needs no second read. */
  | { outcome: 'created' | 'acquired'; record: SagaRecord }
  /** The saga rests (completed, parked, ...): nobody drives it, and `record` is its outcome. */
  | { outcome: 'finished'; record: SagaRecord }
  /** Another runner holds a live lease. */
  | { outcome: 'busy'; state: SagaState }
  | { outcome: 'missing' }
  /** The id belongs to a saga of another name. */
  | { outcome: 'conflict'; recordedName: string }

/** An operator's decision on a parked or compensation_failed saga. */
export type OperatorDecision = 'retry' | 'skip' | 'resolve'

/**
 * Offered by a store that keeps sagas in the same database as the business data, so that a step's business write and
 * the record of its completion commit together: a crash between them is impossible rather than recovered by the
 * step's idempotency. Steps ask for it with `transaction: true`; a runner refuses such a step on a store without it.
 */
export interface StepTransactions {
  /**
   * Opens a transaction and checks the fence in it (the row or lock that says `fence.token` holds the lease; a lost
   * lease rolls back and rejects with SAGA_ERR_LEASE_LOST), runs `work` with the transaction's handle (for a
   * PostgreSQL store, its client inside BEGIN), then applies `completion(result)` (the step's completion) in the same
   * transaction and commits. If `work` rejects, the transaction is rolled back and its error rethrown. When `signal`
   * aborts (the step timed out) before COMMIT is sent, roll back and reject with `signal.reason`; once COMMIT is sent,
   * finish it: the runner waits for the outcome instead of guessing it. Every wait is bounded, like any store call.
   */
  run<T>(
    fence: { sagaId: string; token: string },
    work: (transaction: unknown) => Promise<T>,
    completion: (result: T) => readonly SagaChange[],
    signal: AbortSignal,
  ): Promise<T>
}

/**
 * Where sagas are kept: today's `RedisSagaStore`, and any store that implements this (a PostgreSQL one beside the
 * booking tables, say). The runner, the recovery sweep, the operator API and the CLI's saga commands use nothing
 * else. `describeSagaStoreContract` of `@cachesaga/saga/testing` runs the store and crash-point tests on a store.
 *
 * Rules every store keeps:
 * - Every write that changes a saga is atomic and, except creation and operator decisions, fenced by the lease: a
 *   runner that lost its lease (paused, partitioned) cannot write, and learns it from SAGA_ERR_LEASE_LOST.
 * - `advance` applies changes exactly as `applyChanges` applies them to a record, and `load` returns that record.
 * - Lease deadlines and ages are judged by one clock (the store server's), never by the runners' clocks.
 * - Every call is bounded: a store that cannot be reached fails within its own wait with a coded error naming it.
 */
export interface SagaStore {
  /** Names the store in errors and logs (a Redis URL with the password redacted). */
  readonly description: string
  /** Resolves once the store can be used; rejects within a bounded time with a coded error. */
  ready(): Promise<void>
  /**
   * Resolves when the store keeps what it acknowledged across a restart of its server; rejects with
   * SAGA_ERR_STORE_NOT_DURABLE saying what to set, or SAGA_ERR_STORE_DURABILITY_UNKNOWN when it cannot tell (and
   * says why). A runner calls it before it drives its first saga.
   */
  checkDurability(): Promise<void>
  /** The transaction hook, when the store offers one (the Redis store does not: its steps cannot share a write). */
  readonly stepTransactions?: StepTransactions | undefined
  /** Releases what the store opened (never what it was handed). */
  close(): Promise<void>

  /** Creates the saga when `create` is given and it is missing, then takes its lease unless another holder has it. */
  acquire(sagaId: string, lease: Lease, create?: NewSaga): Promise<AcquireOutcome>
  /** False when `lease.token` no longer holds the lease. */
  renewLease(sagaId: string, lease: Lease): Promise<boolean>
  /** Applies the changes in order, atomically; SAGA_ERR_LEASE_LOST (nothing written) when `token` lost the lease. */
  advance(sagaId: string, token: string, changes: readonly SagaChange[]): Promise<void>
  /**
   * Applies an operator's decision and logs who took it: SAGA_ERR_NOT_FOUND, SAGA_ERR_INVALID_STATE (not waiting
   * for an operator, or `skip` naming another step than the one it waits on). Returns the new state.
   */
  decide(
    sagaId: string,
    decision: OperatorDecision,
    by: { actor: string; step?: string | undefined; note?: string | undefined },
  ): Promise<SagaState>

  load(sagaId: string): Promise<SagaRecord | undefined>
  readLog(sagaId: string): Promise<SagaLogEntry[]>
  /** Ids of the sagas in `state`, sorted. */
  listByState(state: SagaState): Promise<string[]>
  /** Running or compensating sagas whose lease has expired (or was handed back by an operator), with their names. */
  expiredLeases(limit: number): Promise<Array<{ sagaId: string; name: string }>>
  /** Deletes up to `limit` sagas that ended (completed, compensated, resolved) longer than `retainMs` ago. */
  forgetFinished(retainMs: number, limit: number): Promise<number>

  /** Keeps an invalidation to retry later; one job per `job.id`. */
  scheduleInvalidationRetry(job: InvalidationRetryJob): Promise<void>
  /** Due jobs, each hidden from other claims for `hideForMs`, so a claimer that dies leaves it to a later one. */
  claimInvalidationRetries(limit: number, hideForMs: number): Promise<InvalidationRetryJob[]>
  /** Forgets a job whose invalidation the cache confirmed. */
  ackInvalidationRetry(job: InvalidationRetryJob): Promise<void>
}
