import { randomUUID } from 'node:crypto'
import type { Cache } from '@cachesaga/core'
import { type bookingCatalog, EventBus } from '@cachesaga/queue'
import {
  eventually,
  type FaultProxy,
  type RadicaleServer,
  type RedisServer,
  startFaultProxy,
  startRadicale,
  startRedis,
} from '@cachesaga/testkit'
import { Redis } from 'ioredis'
import type { BookingEvent } from '../bookings/booking-events.js'
import { newManagementToken } from '../bookings/booking-ownership.js'
import { BookingRepository } from '../bookings/booking-repository.js'
import { SlotHolds } from '../bookings/slot-holds.js'
import { createAvailabilityCache } from '../cache/availability-cache.js'
import { AvailabilityReader } from '../cache/availability-reader.js'
import { CalDavCalendarProvider } from '../calendar/caldav/caldav-calendar-provider.js'
import type { CalendarChanges } from '../calendar/calendar-provider.js'
import { ensureStaffCalendars } from '../calendar/ensure-staff-calendars.js'
import { type BookingFlows, createBookingFlows } from '../sagas/booking-flows.js'
import { demoIds, seedDemoData } from '../seed/seed-demo-data.js'
import type { ChildEnv } from './crash-saga.js'
import { createTestDatabase, type TestDatabase } from './test-database.js'

/**
 * A seeded database (which also holds the saga store), a private Redis, a cache, Radicale behind a fault proxy, and
 * the booking sagas on them.
 */
export interface SagaFixture {
  db: TestDatabase
  redis: RedisServer
  cache: Cache
  radicale: RadicaleServer
  /** The sagas reach Radicale through it, so a test can make the calendar server vanish and return. */
  proxy: FaultProxy
  /** What a saga child process (`runSagaChild`) runs on: this database, this Redis, the calendar through the proxy. */
  childEnv: ChildEnv
  calendar: CalDavCalendarProvider
  flows: BookingFlows
  reader: AvailabilityReader
  /** Every event the sagas' `notify` steps announced, in order. */
  announced: BookingEvent[]
  /** Ada's free treatment slots on `date` (her local day), read through the cache. */
  free(date: string): Promise<string[]>
  /** Books Ada's treatment at `start` through the booking saga; rejects unless the saga completes. */
  book(start: string, customerEmail?: string): Promise<string>
  /**
   * Runs `start` while the calendar server does not answer (the proxy drops every byte), lets the server back
   * once the saga's calendar step has tried twice, and resolves with what `start` resolves with.
   */
  throughCalendarOutage<T>(start: () => Promise<T>): Promise<T>
  /** What the calendar server holds for Ada now, read as the sync reads it. */
  adasEvents(): Promise<CalendarChanges['events']>
  close(): Promise<void>
}

/** The booking saga's input for Ada's treatment at `start`, under a new booking id. */
export function adasBooking(start: string, customerEmail = 'pat@example.com') {
  return {
    bookingId: randomUUID(),
    tenantId: demoIds.tenant,
    staffId: demoIds.staff.ada,
    serviceId: demoIds.services.treatment,
    customerEmail,
    start,
    managementTokenHash: newManagementToken().hash,
  }
}

export async function startSagaFixture(label: string): Promise<SagaFixture> {
  const db = await createTestDatabase(label)
  await seedDemoData(db.pool)
  // Without persistence: the sagas keep their state in PostgreSQL, and Redis holds only the cache and the holds.
  const redis = await startRedis({ allowExternal: false })
  const holdsRedis = new Redis(redis.url)
  const cache = await createAvailabilityCache(redis.url)
  const radicale = await startRadicale()
  const proxy = await startFaultProxy({ target: radicale })
  const caldavUrl = `http://demo:x@127.0.0.1:${proxy.port}/demo/`
  const calendar = new CalDavCalendarProvider({ url: caldavUrl, timeout: 300 })
  // Setup, not under test: the default timeout, rather than the sagas' 300 ms, on a machine shared with other runs.
  await ensureStaffCalendars(db.pool, new CalDavCalendarProvider({ url: caldavUrl }))
  const announced: BookingEvent[] = []
  const bus = new EventBus<Record<string, unknown>, typeof bookingCatalog>()
  bus.on('booking.*', (event) => {
    announced.push(event)
  })
  const flows = createBookingFlows({
    cache,
    pool: db.pool,
    bookings: new BookingRepository(db.pool),
    holds: new SlotHolds(holdsRedis, 30_000),
    calendar,
    bus,
  })
  const reader = new AvailabilityReader(cache, db.pool, demoIds.tenant)
  return {
    db,
    redis,
    cache,
    radicale,
    proxy,
    childEnv: { DATABASE_URL: db.url, REDIS_URL: redis.url, CALDAV_URL: caldavUrl },
    calendar,
    flows,
    reader,
    announced,
    free: async (date) =>
      (
        await reader.read({ staffId: demoIds.staff.ada, serviceId: demoIds.services.treatment, date })
      ).availability.slots.map((slot) => slot.startsAt),
    book: async (start, customerEmail) => {
      const input = adasBooking(start, customerEmail)
      const outcome = await flows.runner.run(flows.book, input, { sagaId: `booking:${input.bookingId}` })
      if (outcome.state !== 'completed') throw new Error(`booking ${start}: saga ${outcome.state}`)
      return input.bookingId
    },
    throughCalendarOutage: async (start) => {
      proxy.blackhole(true)
      const sentBefore = calendar.requestsSent
      const running = start()
      await eventually('two calendar attempts', async () => calendar.requestsSent - sentBefore >= 2, {
        timeoutMs: 10_000,
      })
      proxy.blackhole(false)
      proxy.resetAll()
      return running
    },
    adasEvents: async () =>
      (
        await calendar.listChanges(demoIds.calendars.ada, null, {
          window: { from: new Date('2026-01-01T00:00:00Z'), to: new Date('2027-12-31T00:00:00Z') },
          timeZone: 'Europe/Berlin',
        })
      ).events,
    close: async () => {
      await flows.close()
      await cache.close()
      holdsRedis.disconnect()
      await redis.stop()
      await proxy.close()
      await radicale.stop()
      await db.drop()
    },
  }
}
