import { randomUUID } from 'node:crypto'
import {
  getFreePort,
  type RadicaleServer,
  type RedisServer,
  startRadicale,
  startRedis,
} from '@cachesaga/testkit'
import Fastify, { type FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CalDavCalendarProvider } from '../calendar/caldav/caldav-calendar-provider.js'
import { ensureStaffCalendars } from '../calendar/ensure-staff-calendars.js'
import { calendarHome } from '../demo/demo-calendar.js'
import { mondayAhead } from '../demo/scenario.js'
import { RecentActivity } from '../metrics/recent-activity.js'
import { demoIds, seedDemoData } from '../seed/seed-demo-data.js'
import { createTestDatabase, type TestDatabase } from '../test-support/test-database.js'
import { type ApiConfig, readApiConfig } from './api-config.js'
import { buildServer } from './build-server.js'
import { configPlugin } from './plugins/config-plugin.js'
import { queuesPlugin } from './plugins/queues-plugin.js'
import { replyError } from './reply-error.js'
import { webhookRoutes } from './routes/webhook-routes.js'

// One test per route that answers errors: the answer's status and code come from the error's `code` field (or,
// for a saga, the outcome's `domainCode` field), and no message carries a code for anyone to parse.
let db: TestDatabase
let redis: RedisServer
let radicale: RadicaleServer
let config: ApiConfig
let app: FastifyInstance
beforeAll(async () => {
  db = await createTestDatabase('error_answers')
  await seedDemoData(db.pool)
  redis = await startRedis({ allowExternal: false, persistence: 'aof' })
  radicale = await startRadicale()
  process.env.CALDAV_URL = calendarHome(radicale)
  await ensureStaffCalendars(db.pool, new CalDavCalendarProvider({ url: process.env.CALDAV_URL }))
  config = readApiConfig({ DATABASE_URL: db.url, REDIS_URL: redis.url, INSTANCE_NAME: 'error-answers' })
  app = await buildServer(config)
}, 60_000)
afterAll(async () => {
  await app?.close()
  await radicale?.stop()
  await redis?.stop()
  await db?.drop()
})

const date = mondayAhead(9)
const ada = demoIds.staff.ada
const treatment = demoIds.services.treatment

/** The error part of an answer, checked to hold its code only as a field. */
function errorOf(answer: { json(): unknown }) {
  const { error } = answer.json() as { error: { code: string; message: string } }
  expect(error.message).not.toMatch(/[A-Z]+_ERR_[A-Z_]+/)
  return error
}

const book = (startsAt: string, bookingId = randomUUID()) =>
  app.inject({
    method: 'POST',
    url: '/bookings',
    payload: { bookingId, staffId: ada, serviceId: treatment, customerEmail: 'pat@example.com', startsAt },
  })

describe('error answers', () => {
  it('GET /availability: 404 BOOKING_ERR_NOT_FOUND for an unknown staff member, 400 naming the field for a bad date', async () => {
    const unknown = await app.inject(
      `/availability?staffId=${randomUUID()}&serviceId=${treatment}&date=${date}`,
    )
    expect(unknown.statusCode).toBe(404)
    expect(errorOf(unknown).code).toBe('BOOKING_ERR_NOT_FOUND')
    const bad = await app.inject(`/availability?staffId=${ada}&serviceId=${treatment}&date=tomorrow`)
    expect(bad.statusCode).toBe(400)
    expect(bad.json()).toMatchObject({
      error: { code: 'BOOKING_ERR_INVALID_INPUT', details: { field: 'query.date' } },
    })
  })

  it('POST /bookings: 409 BOOKING_ERR_SLOT_TAKEN from the compensated saga outcome', async () => {
    expect((await book(`${date}T08:00:00.000Z`)).statusCode).toBe(201)
    const taken = await book(`${date}T08:00:00.000Z`)
    expect(taken.statusCode).toBe(409)
    expect(errorOf(taken).code).toBe('BOOKING_ERR_SLOT_TAKEN')
    expect(taken.json()).toMatchObject({ saga: { state: 'compensated' } })
  })

  it('POST /bookings/:id/cancel: 404 BOOKING_ERR_NOT_FOUND for a booking that does not exist', async () => {
    const answer = await app.inject({ method: 'POST', url: `/bookings/${randomUUID()}/cancel` })
    expect(answer.statusCode).toBe(404)
    expect(errorOf(answer).code).toBe('BOOKING_ERR_NOT_FOUND')
    expect(answer.json()).toMatchObject({ saga: { state: 'compensated', steps: [] } })
  })

  it('POST /bookings/:id/reschedule: 422 BOOKING_ERR_TIME_NOT_OFFERED for a time outside working hours', async () => {
    const bookingId = randomUUID()
    expect((await book(`${date}T09:00:00.000Z`, bookingId)).statusCode).toBe(201)
    const answer = await app.inject({
      method: 'POST',
      url: `/bookings/${bookingId}/reschedule`,
      payload: { startsAt: `${date}T02:00:00.000Z` },
    })
    expect(answer.statusCode).toBe(422)
    expect(errorOf(answer).code).toBe('BOOKING_ERR_TIME_NOT_OFFERED')
    expect(answer.json()).toMatchObject({ saga: { state: 'compensated', steps: ['read-booking', 'hold'] } })
  })

  it('POST /webhooks/calendar: 503 CS_ERR_REDIS_UNREACHABLE when the queue Redis does not answer', async () => {
    // The webhook group alone, its queues on a port nobody listens on.
    const deadRedis = `redis://127.0.0.1:${await getFreePort()}`
    const webhooks = Fastify()
    webhooks.setValidatorCompiler(validatorCompiler)
    webhooks.setSerializerCompiler(serializerCompiler)
    webhooks.setErrorHandler(replyError)
    await webhooks.register(configPlugin, { config: { ...config, redis: deadRedis } })
    await webhooks.register(queuesPlugin)
    // What the route uses of the metrics plugin: the activity log.
    await webhooks.register(
      fp(
        async (instance) => {
          instance.decorate('activity', new RecentActivity())
        },
        { name: 'metrics' },
      ),
    )
    await webhooks.register(webhookRoutes)
    try {
      const answer = await webhooks.inject({
        method: 'POST',
        url: '/webhooks/calendar',
        payload: { calendarId: demoIds.calendars.ada },
      })
      expect(answer.statusCode).toBe(503)
      expect(errorOf(answer).code).toBe('CS_ERR_REDIS_UNREACHABLE')
    } finally {
      await webhooks.close()
    }
  }, 30_000)
})
