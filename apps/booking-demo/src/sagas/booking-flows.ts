import type { RedisConnection } from '@cachesaga/common'
import type { Cache } from '@cachesaga/core'
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
}

export interface BookingFlowsOptions extends BookingSagaDeps {
  /** Where the saga state lives (a Redis or a Redis Cluster). */
  redis: RedisConnection
  cache: Pick<Cache, 'invalidate'>
  events?: SagaEventEmitter
  /** How long a runner owns a saga without renewing; a crashed runner's sagas are resumed after it. */
  lease?: number | string
  sweepInterval?: number | string
}

/** Builds the sagas and their runner; `runner.start()` begins the recovery sweeps, `runner.close()` ends them. */
export function createBookingFlows({
  redis,
  cache,
  events,
  lease,
  sweepInterval,
  ...deps
}: BookingFlowsOptions): BookingFlows {
  const book = createBookingSaga(deps)
  const cancel = createCancellationSaga(deps)
  const reschedule = createRescheduleSaga(deps)
  const runner = createSagaRunner({
    redis,
    cache,
    sagas: [book, cancel, reschedule],
    ...(events && { events }),
    ...(lease !== undefined && { lease }),
    ...(sweepInterval !== undefined && { sweepInterval }),
  })
  return { runner, book, cancel, reschedule }
}
