import type { Cache } from '@cachesaga/core'
import { PostgresSagaStore } from '@cachesaga/postgres'
import { createSagaRunner, type SagaEventEmitter, type SagaRunner } from '@cachesaga/saga'
import { type BookingSaga, createBookingSaga } from './booking-saga.js'
import { type CancellationSaga, createCancellationSaga } from './cancellation-saga.js'
import { createRescheduleSaga, type RescheduleSaga } from './reschedule-saga.js'
import type { BookingSagaDeps } from './saga-steps.js'

/** The three booking sagas and the one runner that drives (and, after a crash, resumes) all of them. */
export interface BookingFlows {
  runner: SagaRunner
  book: BookingSaga
  cancel: CancellationSaga
  reschedule: RescheduleSaga
  /** Ends the runner (its sweeps, then the sagas it is driving), then the store; the app's pool stays open. */
  close(): Promise<void>
}

export interface BookingFlowsOptions extends BookingSagaDeps {
  cache: Pick<Cache, 'invalidate'>
  events?: SagaEventEmitter
  /** How long a runner owns a saga without renewing; a crashed runner's sagas are resumed after it. */
  lease?: number | string
  sweepInterval?: number | string
}

/**
 * Builds the sagas and their runner on @cachesaga/postgres's saga store, in the app's own database (`deps.pool`; its
 * tables come with the app's migrations): each saga's pivot writes the booking and its outbox event through the
 * step's transaction, which also records that the step completed, so the three commit together. `runner.start()`
 * begins the recovery sweeps; `close()` ends them.
 */
export function createBookingFlows({
  cache,
  events,
  lease,
  sweepInterval,
  ...deps
}: BookingFlowsOptions): BookingFlows {
  const book = createBookingSaga(deps)
  const cancel = createCancellationSaga(deps)
  const reschedule = createRescheduleSaga(deps)
  const store = new PostgresSagaStore({ database: deps.pool })
  const runner = createSagaRunner({
    store,
    cache,
    sagas: [book, cancel, reschedule],
    ...(events && { events }),
    ...(lease !== undefined && { lease }),
    ...(sweepInterval !== undefined && { sweepInterval }),
  })
  return {
    runner,
    book,
    cancel,
    reschedule,
    close: async () => {
      await runner.close()
      await store.close()
    },
  }
}
