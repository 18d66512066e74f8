import { randomUUID } from 'node:crypto'
import type { Slot } from '@cachesaga/queue'
import type { SagaOutcome } from '@cachesaga/saga'
import fp from 'fastify-plugin'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { BookingOwnership, newManagementToken } from '../../bookings/booking-ownership.js'
import type { Booking } from '../../bookings/booking-repository.js'
import { BookingDemoError } from '../../errors.js'
import { errorReply } from '../reply-error.js'

const bookingBodySchema = z.object({
  /** Optional: a client that retries with the same id gets the same booking, never a second one. */
  bookingId: z.uuid().optional(),
  staffId: z.uuid(),
  serviceId: z.uuid(),
  customerEmail: z.email(),
  startsAt: z.iso.datetime({ offset: true }),
})
const bookingParamsSchema = z.object({ id: z.uuid() })
const rescheduleBodySchema = z.object({ startsAt: z.iso.datetime({ offset: true }) })

/** The HTTP shape of a time: `startsAt`/`endsAt`, as the API has always answered. */
function times(slot: Slot) {
  return { startsAt: slot.start, endsAt: slot.end }
}

function bookingAnswer({ slot, timeZone: _, updatedAt: __, ...booking }: Booking) {
  return { ...booking, ...times(slot) }
}

/** The saga part of every answer: its id, where it rests, and the steps it completed (in order). */
function sagaAnswer(outcome: SagaOutcome, steps: readonly { name: string }[]) {
  return {
    id: outcome.sagaId,
    state: outcome.state,
    steps: steps.map((step) => step.name).filter((name) => name in outcome.results),
  }
}

/**
 * A saga that did not reach its pivot: the code is the domain's (`domainCode`, recorded as a field by
 * `DomainRejection`), else the failure's own code. Nothing here reads a message.
 */
function refusal(outcome: SagaOutcome) {
  const code = outcome.error?.domainCode ?? outcome.error?.code ?? 'SAGA_FAILED'
  return errorReply(code, outcome.error?.message ?? `saga ended ${outcome.state}`, outcome.error?.details)
}

/** The management token a request presents: `Authorization: Bearer <token>`. */
function presentedToken(authorization: string | undefined): string | undefined {
  return /^Bearer ([A-Za-z0-9_-]{1,128})$/.exec(authorization ?? '')?.[1]
}

/**
 * Bookings: made, cancelled and moved by their sagas, all through the one runner. Once a saga passed its
 * pivot, the change stands and is answered as done, even if a later step (the external calendar) is parked
 * for an operator: the saga state in the answer says so.
 *
 * Making a booking answers its management token, once; cancelling or moving it needs that token. Anything else
 * (no token, another booking's, a booking that does not exist) is the same 403, which says nothing about
 * whether the booking exists.
 */
const routes: FastifyPluginAsyncZod = async (app) => {
  const { flows, config } = app
  const ownership = new BookingOwnership(app.pool)

  /** Refuses the request unless it presents the management token of booking `id`. */
  const requireToken = async (id: string, authorization: string | undefined) => {
    const token = presentedToken(authorization)
    if (await ownership.holds(config.TENANT_ID, id, token)) return
    throw new BookingDemoError(
      'BOOKING_ERR_FORBIDDEN',
      token === undefined
        ? 'changing a booking needs its management token (Authorization: Bearer <token>)'
        : 'this token does not manage that booking',
      { details: { bookingId: id, reason: token === undefined ? 'token-missing' : 'token-not-accepted' } },
    )
  }

  app.post('/bookings', { schema: { body: bookingBodySchema } }, async (request, reply) => {
    const { startsAt, ...body } = request.body
    const bookingId = body.bookingId ?? randomUUID()
    const { token, hash } = newManagementToken()
    const outcome = await flows.runner.run(
      flows.book,
      { ...body, bookingId, start: startsAt, tenantId: config.TENANT_ID, managementTokenHash: hash },
      { sagaId: `booking:${bookingId}` },
    )
    const saga = sagaAnswer(outcome, flows.book.steps)
    const committed = outcome.results.commit
    if (committed) {
      // The same booking id again gets the first request's outcome, made with the first request's token: this
      // caller did not make the booking (or lost the answer), and learns only that it exists.
      if (!(await ownership.holds(config.TENANT_ID, bookingId, token))) {
        const { status, body: error } = errorReply(
          'BOOKING_ERR_BOOKING_EXISTS',
          `booking ${bookingId} exists; its management token was given to whoever made it`,
          { bookingId },
        )
        return reply.status(status).send(error)
      }
      const { booking } = committed
      return reply.status(201).send({
        booking: { id: booking.id, staffId: booking.staffId, ...times(booking.slot) },
        managementToken: token,
        saga,
      })
    }
    const { status, body: error } = refusal(outcome)
    return reply.status(status).send({ ...error, saga })
  })

  app.post(
    '/bookings/:id/cancel',
    {
      schema: { params: bookingParamsSchema },
      preHandler: (request) => requireToken(request.params.id, request.headers.authorization),
    },
    async (request, reply) => {
      const { id } = request.params
      const outcome = await flows.runner.run(
        flows.cancel,
        { tenantId: config.TENANT_ID, bookingId: id },
        { sagaId: `cancel:${id}` },
      )
      const saga = sagaAnswer(outcome, flows.cancel.steps)
      const cancelled = outcome.results.cancel
      if (cancelled) return { booking: bookingAnswer(cancelled.booking), saga }
      const { status, body: error } = refusal(outcome)
      return reply.status(status).send({ ...error, saga })
    },
  )

  app.post(
    '/bookings/:id/reschedule',
    {
      schema: { params: bookingParamsSchema, body: rescheduleBodySchema },
      preHandler: (request) => requireToken(request.params.id, request.headers.authorization),
    },
    async (request, reply) => {
      const { id } = request.params
      const outcome = await flows.runner.run(
        flows.reschedule,
        { tenantId: config.TENANT_ID, bookingId: id, start: request.body.startsAt },
        { sagaId: `reschedule:${id}:${randomUUID()}` },
      )
      const saga = sagaAnswer(outcome, flows.reschedule.steps)
      const moved = outcome.results.move
      const read = outcome.results['read-booking']
      if (moved && read) {
        return { booking: bookingAnswer(moved.booking), previous: times(read.booking.slot), saga }
      }
      const { status, body: error } = refusal(outcome)
      return reply.status(status).send({ ...error, saga })
    },
  )
}

export const bookingRoutes = fp(routes, {
  name: 'booking-routes',
  dependencies: ['config', 'database', 'booking-flows'],
  encapsulate: true,
})
