// @cachesaga/saga/testing: what a SagaStore implementation needs to be tested like the Redis store.
export { bookingInput, bookingSaga } from './booking-saga.js'
export { describeSagaStoreContract, type SagaStoreContractOptions } from './contract.js'
export { type CrashDecision, inBatches, pauseAtCrashPoint, runCrashPointChild } from './crash-points.js'
export { EffectLedger } from './effects.js'
export type { SagaStoreFactory } from './store-factory.js'
