import { randomUUID } from 'node:crypto'
import type { Cache } from '@cachesaga/core'
import { EventBus } from '@cachesaga/queue'
import { createSagaRunner, type SagaRunner } from '@cachesaga/saga'
import { type RedisServer, startRedis } from '@cachesaga/testkit'
import Fastify from 'fastify'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { ApiContext } from '../api/api-context.js'
import { AvailabilityReader } from '../cache/availability-reader.js'
import { createAvailabilityCache } from '../cache/create-availability-cache.js'
import { SimulatedCalendarProvider } from '../calendar/simulated-calendar-provider.js'
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
let calendar: SimulatedCalendarProvider
let saga: BookingSaga
let runner: SagaRunner
let reader: AvailabilityReader
const announced: string[] = []
beforeAll(async () => {
  db = await createTestDatabase('saga')
  await seedDemoData(db.pool)
  server = await startRedis({ allowExternal: false, args: ['--appendonly', 'yes'] })
  redis = new Redis(server.url)
  cache = await createAvailabilityCache(server.url)
  calendar = new SimulatedCalendarProvider(db.pool)
  const bus = new EventBus()
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
  await db?.drop()
})
beforeEach(() => calendar.failTransiently(0))

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
  it('commits, writes the external calendar through transient failures, drops the cached day and announces it', async () => {
    expect((await reader.read(query)).availability.slots.map((slot) => slot.startsAt)).toContain(
      '2026-12-07T08:00:00.000Z',
    )
    calendar.failTransiently(2)
    const input = request('2026-12-07T08:00:00.000Z')
    const outcome = await book(input)
    expect(outcome.state).toBe('completed')
    expect(outcome.results['write-external-calendar']).toEqual({ written: true })
    const events = await calendar.listChanges(demoIds.calendars.ada, null)
    expect(events.events).toMatchObject([{ id: `booking-${input.bookingId}`, bookingId: input.bookingId }])
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

  it('parks after the pivot when the calendar stays down: the booking stands and waits for an operator', async () => {
    calendar.failTransiently(100)
    const input = request('2026-12-07T12:00:00.000Z')
    const outcome = await book(input)
    expect(outcome).toMatchObject({ state: 'parked', parkedStep: 'write-external-calendar' })
    const { rows } = await db.pool.query('SELECT status FROM bookings WHERE id = $1', [input.bookingId])
    expect(rows).toEqual([{ status: 'confirmed' }])
    calendar.failTransiently(0)
    const retried = await runner.operator.retry(outcome.sagaId, { actor: 'test' })
    expect(retried.state).toBe('completed')
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
