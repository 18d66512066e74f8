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
 * Where sagas are kept. Every write that changes a saga is atomic and, except creation and operator decisions, fenced
 * by the lease: a runner that lost its lease (paused, partitioned) cannot write, and learns it from
 * SAGA_ERR_LEASE_LOST. A store that cannot be reached fails within its own bounded wait, naming itself.
 */
export interface SagaStore {
  /** Names the store in errors and logs (a Redis URL with the password redacted). */
  readonly description: string
  /** Resolves once the store can be used; rejects within a bounded time with a coded error. */
  ready(): Promise<void>
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
