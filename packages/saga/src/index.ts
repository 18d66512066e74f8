export {
  defineSaga,
  SagaDefinition,
  type TaskStepOptions,
} from './definition/define-saga.js'
export type { RetryPolicy, RetryPolicyInput } from './definition/retry-policy.js'
export type { CompensationContext, SagaStep, StepContext, StepServices } from './definition/step.js'
export { DomainRejection, type RecordedError, SagaError, type SagaErrorCode } from './errors.js'
export type { SagaEvent, SagaEventEmitter, SagaEventName } from './events.js'
export {
  type BookedSlot,
  type BookingCacheMapping,
  type BookingInvalidationOptions,
  defaultBookingCacheMapping,
  invalidateAfterBooking,
  invalidateAfterCancellation,
  invalidateAfterReschedule,
  invalidateAfterSync,
  type SyncWindow,
} from './invalidation/booking-invalidation.js'
export {
  type InvalidateCacheOptions,
  invalidateCache,
  type TargetSource,
} from './invalidation/invalidate-cache.js'
export type {
  InvalidationRetryJob,
  InvalidationRetryScheduler,
} from './invalidation/retry-scheduler.js'
export type { SagaCache } from './invalidation/saga-cache.js'
export type { OperatorAction, SagaOperator } from './operator/saga-operator.js'
export type { SagaLog } from './runtime/log.js'
export type { SagaRunnerOptions } from './runtime/runner-options.js'
export type { SagaOutcome } from './runtime/saga-outcome.js'
export { createSagaRunner, type SagaRunner } from './runtime/saga-runner.js'
export { RedisSagaStore } from './store/redis/redis-saga-store.js'
export { createRedisSagaStore, type RedisSagaStoreOptions } from './store/redis/redis-store-options.js'
export {
  applyChanges,
  createdRecord,
  type PhaseChange,
  type SagaChange,
  type StateChange,
} from './store/saga-change.js'
export {
  FINAL_STATES,
  type PhaseRecord,
  type PhaseStatus,
  SAGA_STATES,
  type SagaLogEntry,
  type SagaRecord,
  type SagaState,
} from './store/saga-record.js'
export type {
  AcquireOutcome,
  Lease,
  NewSaga,
  OperatorDecision,
  SagaStore,
  StepTransactions,
} from './store/saga-store.js'
