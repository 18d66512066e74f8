import type { InvalidationTarget } from '@cachesaga/core'
import type { SagaCache } from '../invalidation/saga-cache.js'
import type { RetryPolicy } from './retry-policy.js'

/** What a step's `run` receives. */
export interface StepContext<Input, Results> {
  readonly sagaId: string
  /** The saga's input, as parsed by its schema when the saga was first run. */
  readonly input: Input
  /** Results of the steps before this one, by step name (JSON round-tripped, as stored). */
  readonly results: Results
  /** `<sagaId>:<step>`, the same on every attempt: pass it on to the systems the step calls. */
  readonly idempotencyKey: string
  /** 1 on the first attempt; attempts interrupted by a crash do not count. */
  readonly attempt: number
  /** Aborted when the step times out. */
  readonly signal: AbortSignal
  /**
   * The store's transaction, in a step declared with `transaction: true` (undefined otherwise): do the step's business
   * writes through it and they commit together with the record that the step completed. Its type is the store's (for
   * a PostgreSQL store, a pg client inside BEGIN).
   */
  readonly transaction?: unknown
}

/** What a step's `compensate` receives: the forward context plus the step's own recorded result. */
export interface CompensationContext<Input, Results, Output> extends StepContext<Input, Results> {
  /**
   * The step's result, or undefined when its completion was never recorded (it failed or timed out and may or may
   * not have acted): compensations must therefore tolerate finding nothing to undo. The idempotency key is
   * `<sagaId>:<step>:compensation`.
   */
  readonly result: Output | undefined
}

/** Services the runner lends to its built-in steps. */
export interface StepServices {
  readonly cache: SagaCache | undefined
  /** Hands an invalidation that failed to the retry scheduler and records that on the saga. */
  deferInvalidation(target: InvalidationTarget, error: unknown): Promise<void>
}

type StepKind = 'task' | 'pivot' | 'invalidation'

/** A step as the runner sees it: the definition's public types are erased here. */
export interface SagaStep<Input = unknown, Results = Record<string, unknown>> {
  readonly name: string
  /** `pivot`: the point of no return. `invalidation`: its compensation runs after every other one. */
  readonly kind: StepKind
  readonly retry: RetryPolicy
  /** A step still running after this is failed with SAGA_ERR_STEP_TIMEOUT (a transient error). */
  readonly timeoutMs: number
  /** Runs in the store's transaction, which also records its completion (see `StepTransactions`). */
  readonly transaction?: boolean
  run(ctx: StepContext<Input, Results>, services: StepServices): Promise<unknown>
  compensate?(ctx: CompensationContext<Input, Results, unknown>, services: StepServices): Promise<void>
}
