import { randomUUID } from 'node:crypto'
import { getFreePort } from '@cachesaga/testkit'
import Fastify, { type FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { withRedisEnv } from '../demo/process-stack.js'
import { mondayAhead } from '../demo/scenario.js'
import { secretsEnv } from '../demo/stack-secrets.js'
import { RecentActivity } from '../metrics/recent-activity.js'
import { demoIds } from '../seed/seed-demo-data.js'
import { type ApiStores, startApiStores } from '../test-support/api-stores.js'
import { readApiConfig } from './api-config.js'
import { configPlugin } from './plugins/config-plugin.js'
import { queuesPlugin } from './plugins/queues-plugin.js'
import { replyError } from './reply-error.js'
import { webhookRoutes } from './routes/webhook-routes.js'
import { signedWebhooksPlugin } from './security/signed-webhooks-plugin.js'
import { signWebhook } from './security/webhook-signature.js'

// One test per route that answers errors: the answer's status and code come from the error's `code` field (or,
// for a saga, the outcome's `domainCode` field), and no message carries a code for anyone to parse. The refusals
// of missing or wrong credentials are in `security/protected-routes.test.ts`, checked the same way.
let stores: ApiStores
let app: FastifyInstance
beforeAll(async () => {
  stores = await startApiStores('error_answers')
  app = await stores.server()
}, 60_000)
afterAll(() => stores?.stop(), 60_000)

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

  it('POST /bookings: 409 BOOKING_ERR_BOOKING_EXISTS for a booking id that was used, without its details', async () => {
    const bookingId = randomUUID()
    expect((await book(`${date}T10:00:00.000Z`, bookingId)).statusCode).toBe(201)
    const again = await book(`${date}T12:00:00.000Z`, bookingId)
    expect(again.statusCode).toBe(409)
    expect(errorOf(again).code).toBe('BOOKING_ERR_BOOKING_EXISTS')
    expect(again.json()).toEqual({ error: expect.objectContaining({ details: { bookingId } }) })
  })

  it('POST /bookings/:id/cancel: 403 BOOKING_ERR_FORBIDDEN for a booking that does not exist, whatever the token', async () => {
    const answer = await app.inject({
      method: 'POST',
      url: `/bookings/${randomUUID()}/cancel`,
      headers: { authorization: `Bearer ${randomUUID()}` },
    })
    expect(answer.statusCode).toBe(403)
    expect(errorOf(answer).code).toBe('BOOKING_ERR_FORBIDDEN')
  })

  it('POST /bookings/:id/reschedule: 422 BOOKING_ERR_TIME_NOT_OFFERED for a time outside working hours', async () => {
    const bookingId = randomUUID()
    const booked = await book(`${date}T09:00:00.000Z`, bookingId)
    expect(booked.statusCode).toBe(201)
    const answer = await app.inject({
      method: 'POST',
      url: `/bookings/${bookingId}/reschedule`,
      headers: { authorization: `Bearer ${booked.json().managementToken}` },
      payload: { startsAt: `${date}T02:00:00.000Z` },
    })
    expect(answer.statusCode).toBe(422)
    expect(errorOf(answer).code).toBe('BOOKING_ERR_TIME_NOT_OFFERED')
    expect(answer.json()).toMatchObject({ saga: { state: 'compensated', steps: ['read-booking', 'hold'] } })
  })

  it('POST /webhooks/calendar: 503 CS_ERR_REDIS_UNREACHABLE when the queue Redis does not answer', async () => {
    // The webhook group alone, its queues on a port nobody listens on.
    const deadRedis = { url: `redis://127.0.0.1:${await getFreePort()}` }
    const config = readApiConfig({
      ...withRedisEnv({ DATABASE_URL: stores.db.url }, deadRedis),
      ...secretsEnv(stores.secrets),
    })
    const webhooks = Fastify()
    webhooks.setValidatorCompiler(validatorCompiler)
    webhooks.setSerializerCompiler(serializerCompiler)
    webhooks.setErrorHandler(replyError)
    await webhooks.register(configPlugin, { config })
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
    await webhooks.register(signedWebhooksPlugin)
    await webhooks.register(webhookRoutes)
    try {
      const payload = JSON.stringify({ calendarId: demoIds.calendars.ada })
      const answer = await webhooks.inject({
        method: 'POST',
        url: '/webhooks/calendar',
        headers: {
          'content-type': 'application/json',
          ...signWebhook(stores.secrets.webhookSecret, payload),
        },
        payload,
      })
      expect(answer.statusCode).toBe(503)
      expect(errorOf(answer).code).toBe('CS_ERR_REDIS_UNREACHABLE')
    } finally {
      await webhooks.close()
    }
  }, 30_000)
})
