import type { Cache, InvalidationTarget } from '@cachesaga/core'
import { bookingCatalog, Dispatcher, EventBus, QueueAdmin } from '@cachesaga/queue'
import { createSagaRunner, type SagaRunner } from '@cachesaga/saga'
import { Queue } from 'bullmq'
import { Redis } from 'ioredis'
import pg from 'pg'
import { BookingRepository } from '../bookings/booking-repository.js'
import { type BookingSaga, createBookingSaga } from '../bookings/booking-saga.js'
import { SlotHolds } from '../bookings/slot-holds.js'
import { AvailabilityReader } from '../cache/availability-reader.js'
import { targetForStaffEdit } from '../cache/availability-targets.js'
import { createAvailabilityCache } from '../cache/create-availability-cache.js'
import { calendarProviderFromEnv } from '../calendar/caldav/caldav-env.js'
import { ChangeListener } from '../changes/change-listener.js'
import { LatencyWindow } from '../metrics/latency-window.js'
import type { ApiConfig } from './api-config.js'
import { RecentActivity } from './recent-activity.js'

/** Everything one API process holds, built once at start and closed once at exit. */
export interface ApiContext {
  config: ApiConfig
  pool: pg.Pool
  redis: Redis
  cache: Cache
  availability: AvailabilityReader
  bookings: BookingRepository
  runner: SagaRunner
  bookingSaga: BookingSaga
  dispatcher: Dispatcher<typeof bookingCatalog>
  queueAdmin: QueueAdmin
  /** BullMQ handles for bull-board only; producing and consuming goes through @cachesaga/queue. */
  boardQueues: Queue[]
  latency: LatencyWindow
  activity: RecentActivity
  /** Invalidates, never throwing: a failure is counted and logged, and the outbox event's worker repeats it. */
  invalidate(target: InvalidationTarget, why: string): Promise<void>
  failedInvalidations(): number
  close(): Promise<void>
}

/** How long a slot hold outlives a saga that died holding it. */
const HOLD_MS = 30_000

export async function createApiContext(config: ApiConfig): Promise<ApiContext> {
  // Named, so an operator (or a test) can find this instance's connections in pg_stat_activity.
  const pool = new pg.Pool({
    connectionString: config.DATABASE_URL,
    max: 20,
    application_name: config.INSTANCE_NAME,
  })
  pool.on('error', () => {})
  const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 2 })
  const cache = await createAvailabilityCache(config.REDIS_URL)
  const activity = new RecentActivity()
  const bus = new EventBus<Record<string, unknown>, typeof bookingCatalog>()
  bus.on('booking.created', (event) => {
    activity.add(`booking ${event.payload.bookingId.slice(0, 8)} confirmed for ${event.payload.slot.start}`)
  })
  const bookings = new BookingRepository(pool)
  const bookingSaga = createBookingSaga({
    pool,
    bookings,
    holds: new SlotHolds(redis, HOLD_MS),
    calendar: calendarProviderFromEnv(process.env),
    bus,
  })
  const runner = createSagaRunner({
    redis,
    cache,
    sagas: [bookingSaga],
    events: {
      emit: (name, event) => {
        if (name === 'saga.compensated' || name === 'saga.parked') {
          activity.add(`saga ${event.sagaId} ${name.slice(5)}: ${event.error?.message ?? ''}`)
        }
      },
    },
  })
  runner.start()
  let failed = 0
  const invalidate = async (target: InvalidationTarget, why: string) => {
    try {
      await cache.invalidate(target)
      activity.add(`invalidated ${describeTarget(target)} (${why})`)
    } catch (error) {
      failed++
      activity.add(`invalidation after ${why} FAILED: ${(error as Error).message}`)
    }
  }
  const listener = new ChangeListener({
    pool,
    name: config.INSTANCE_NAME,
    onChange: (change) =>
      invalidate(
        targetForStaffEdit(change.tenantId, change.staffId),
        `${change.operation} of ${change.entity}`,
      ),
  })
  listener.on('failure', (error) => activity.add(`change listener: ${error.message}`))
  await listener.start()
  const connection = { redis: config.REDIS_URL, prefix: config.QUEUE_PREFIX }
  const dispatcher = new Dispatcher({ ...connection, catalog: bookingCatalog })
  const queueAdmin = new QueueAdmin(connection)
  // BullMQ wants blocking-safe clients: no per-request retry limit.
  const boardRedis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: null })
  const boardQueues = bookingCatalog.queues.map(
    (name) => new Queue(name, { connection: boardRedis, prefix: config.QUEUE_PREFIX }),
  )
  return {
    config,
    pool,
    redis,
    cache,
    availability: new AvailabilityReader(cache, pool, config.TENANT_ID),
    bookings,
    runner,
    bookingSaga,
    dispatcher,
    queueAdmin,
    boardQueues,
    latency: new LatencyWindow(),
    activity,
    invalidate,
    failedInvalidations: () => failed,
    close: async () => {
      await listener.stop()
      await runner.close()
      await Promise.all([
        dispatcher.close(),
        queueAdmin.close(),
        ...boardQueues.map((queue) => queue.close()),
      ])
      await cache.close()
      redis.disconnect()
      boardRedis.disconnect()
      await pool.end()
    },
  }
}

function describeTarget(target: InvalidationTarget): string {
  const scopes = (target.scopes ?? []).map(
    (scope) => `scope ${typeof scope === 'string' ? scope : scope.scope}`,
  )
  return [...(target.tags ?? []), ...scopes].join(', ')
}
