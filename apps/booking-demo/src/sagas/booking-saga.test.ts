import { randomUUID } from 'node:crypto'
import type { Cache } from '@cachesaga/core'
import { type bookingCatalog, EventBus } from '@cachesaga/queue'
import { createSagaRunner, type SagaRunner } from '@cachesaga/saga'
import {
  type FaultProxy,
  type RadicaleServer,
  type RedisServer,
  startFaultProxy,
  startRadicale,
  startRedis,
} from '@cachesaga/testkit'
import Fastify from 'fastify'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { ApiContext } from '../api/api-context.js'
import { AvailabilityReader } from '../cache/availability-reader.js'
import { createAvailabilityCache } from '../cache/create-availability-cache.js'
import { CalDavCalendarProvider } from '../calendar/caldav/caldav-calendar-provider.js'
import { ensureStaffCalendars } from '../calendar/ensure-staff-calendars.js'
import { waitFor } from '../demo/api-client.js'
import { replyError } from '../http/reply-error.js'
import { bookingRoutes } from '../http/routes/booking-routes.js'
import { demoIds, seedDemoData } from '../seed/seed-demo-data.js'
import { createTestDatabase, type TestDatabase } from '../test-support/test-database.js'
import { BookingRepository } from './booking-repository.js'
import { type BookingSaga, createBookingSaga } from './booking-saga.js'
import { SlotHolds } from './slot-holds.js'

let db: TestDatabase
let server: RedisServer
let redis: Redis
let cache: Cache
let radicale: RadicaleServer
/** The saga reaches Radicale through this proxy, so a test can make the calendar server vanish and return. */
let proxy: FaultProxy
let calendar: CalDavCalendarProvider
let saga: BookingSaga
let runner: SagaRunner
let reader: AvailabilityReader
const announced: string[] = []
beforeAll(async () => {
  db = await createTestDatabase('saga')
  await seedDemoData(db.pool)
  server = await startRedis({ allowExternal: false })
  redis = new Redis(server.url)
  cache = await createAvailabilityCache(server.url)
  radicale = await startRadicale()
  proxy = await startFaultProxy({ target: radicale })
  calendar = new CalDavCalendarProvider({ url: `http://demo:x@127.0.0.1:${proxy.port}/demo/`, timeout: 300 })
  await ensureStaffCalendars(db.pool, calendar)
  const bus = new EventBus<Record<string, unknown>, typeof bookingCatalog>()
  bus.on('booking.created', (event) => {
    announced.push(event.payload.bookingId)
  })
  saga = createBookingSaga({
    pool: db.pool,
    bookings: new BookingRepository(db.pool),
    holds: new SlotHolds(redis, 30_000),
    calendar,
    bus,
  })
  runner = createSagaRunner({ redis, cache, sagas: [saga] })
  reader = new AvailabilityReader(cache, db.pool, demoIds.tenant)
})
afterAll(async () => {
  await runner?.close()
  await cache?.close()
  redis?.disconnect()
  await server?.stop()
  await proxy?.close()
  await radicale?.stop()
  await db?.drop()
})
beforeEach(() => proxy.blackhole(false))

/** What the calendar server holds for Ada, read as the sync reads it. */
const adasEvents = async () =>
  (
    await calendar.listChanges(demoIds.calendars.ada, null, {
      window: { from: new Date('2026-01-01T00:00:00Z'), to: new Date('2027-12-31T00:00:00Z') },
      timeZone: 'Europe/Berlin',
    })
  ).events

const day = '2026-12-07'
const query = { staffId: demoIds.staff.ada, serviceId: demoIds.services.treatment, date: day }
const request = (startsAt: string) => ({
  bookingId: randomUUID(),
  tenantId: demoIds.tenant,
  staffId: demoIds.staff.ada,
  serviceId: demoIds.services.treatment,
  customerEmail: 'pat@example.com',
  startsAt,
})
const book = (input: ReturnType<typeof request>) =>
  runner.run(saga, input, { sagaId: `booking:${input.bookingId}` })

describe('the booking saga', () => {
  it('commits, writes the external calendar through an outage of the calendar server, drops the cached day and announces it', async () => {
    expect((await reader.read(query)).availability.slots.map((slot) => slot.startsAt)).toContain(
      '2026-12-07T08:00:00.000Z',
    )
    // The calendar server stops answering; the step's first attempts time out, then it comes back.
    proxy.blackhole(true)
    const sentBefore = calendar.requestsSent
    const input = request('2026-12-07T08:00:00.000Z')
    const outcome = book(input)
    await waitFor(async () => calendar.requestsSent - sentBefore >= 2, 10_000)
    proxy.blackhole(false)
    proxy.resetAll()
    expect((await outcome).state).toBe('completed')
    expect((await outcome).results['write-external-calendar']).toEqual({ written: true })
    expect(await adasEvents()).toMatchObject([
      {
        id: `booking-${input.bookingId}`,
        bookingId: input.bookingId,
        busy: [{ startsAt: new Date(input.startsAt) }],
      },
    ])
    const after = await reader.read(query)
    expect(after.tier).toBe('database')
    expect(after.availability.slots.map((slot) => slot.startsAt)).not.toContain('2026-12-07T08:00:00.000Z')
    expect(announced).toContain(input.bookingId)
  })

  it('compensates a booking of a taken time: the hold is let go and nothing is announced', async () => {
    const taken = request('2026-12-07T08:00:00.000Z')
    const outcome = await book(taken)
    expect(outcome.state).toBe('compensated')
    expect(outcome.error).toMatchObject({
      code: 'SAGA_ERR_DOMAIN_REJECTION',
      step: 'commit',
      domainCode: 'BOOKING_ERR_SLOT_TAKEN',
    })
    expect(announced).not.toContain(taken.bookingId)
    // Its hold is gone: a booking of the next hour is not turned away by a leftover.
    expect((await book(request('2026-12-07T09:00:00.000Z'))).state).toBe('completed')
  })

  it('parks after the pivot with a coded error when the calendar server stays down: the booking stands', async () => {
    await radicale.kill()
    const input = request('2026-12-07T12:00:00.000Z')
    let outcome: Awaited<ReturnType<typeof book>>
    try {
      const sentBefore = calendar.requestsSent
      outcome = await book(input)
      expect(outcome).toMatchObject({
        state: 'parked',
        parkedStep: 'write-external-calendar',
        error: { code: 'BOOKING_ERR_CALENDAR_UNAVAILABLE' },
      })
      // The step's retry policy: five attempts, each one PUT.
      expect(calendar.requestsSent - sentBefore).toBe(5)
      const { rows } = await db.pool.query('SELECT status FROM bookings WHERE id = $1', [input.bookingId])
      expect(rows).toEqual([{ status: 'confirmed' }])
    } finally {
      await radicale.restart()
    }
    const retried = await runner.operator.retry(outcome.sagaId, { actor: 'test' })
    expect(retried.state).toBe('completed')
    expect((await adasEvents()).map((event) => event.id)).toContain(`booking-${input.bookingId}`)
  })

  it('parks at once, without retrying, when the calendar server refuses the write', async () => {
    // A calendar home the server refuses to write into (Radicale answers 403 that deep).
    const nowhere = new CalDavCalendarProvider({ url: `http://demo:x@127.0.0.1:${proxy.port}/demo/missing/` })
    const refusing = createBookingSaga({
      pool: db.pool,
      bookings: new BookingRepository(db.pool),
      holds: new SlotHolds(redis, 30_000),
      calendar: nowhere,
      bus: new EventBus(),
    })
    const refusingRunner = createSagaRunner({ redis, cache, sagas: [refusing] })
    try {
      const input = request('2026-12-07T13:00:00.000Z')
      const outcome = await refusingRunner.run(refusing, input, { sagaId: `booking:${input.bookingId}` })
      expect(outcome).toMatchObject({ state: 'parked', parkedStep: 'write-external-calendar' })
      expect(outcome.error?.message).toMatch(/answered 403/)
      expect(nowhere.requestsSent).toBe(1)
    } finally {
      await refusingRunner.close()
    }
  })
})

describe('POST /bookings', () => {
  it('answers 409 with the booking code the saga recorded as a field, for a time that is taken', async () => {
    const app = Fastify()
    app.setErrorHandler(replyError)
    // The route needs the runner, the saga and the tenant of the API context, nothing else.
    const context = {
      runner,
      bookingSaga: saga,
      config: { TENANT_ID: demoIds.tenant },
    } as unknown as ApiContext
    await app.register(bookingRoutes(context))
    const body = {
      staffId: demoIds.staff.ada,
      serviceId: demoIds.services.treatment,
      customerEmail: 'pat@example.com',
      startsAt: '2026-12-07T14:00:00.000Z',
    }
    try {
      expect((await app.inject({ method: 'POST', url: '/bookings', payload: body })).statusCode).toBe(201)
      const taken = await app.inject({ method: 'POST', url: '/bookings', payload: body })
      expect(taken.statusCode).toBe(409)
      expect(taken.json()).toMatchObject({
        error: { code: 'BOOKING_ERR_SLOT_TAKEN' },
        saga: { state: 'compensated' },
      })
    } finally {
      await app.close()
    }
  })
})
