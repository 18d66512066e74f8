import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import type { ApiContext } from '../../api/api-context.js'
import { targetForBookedTimes } from '../../cache/availability-targets.js'
import { parseInput } from '../../parse-input.js'
import { loadStaffProfile } from '../../staff/load-staff-profile.js'
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

/** Bookings: made by the booking saga; cancelled and moved directly, each followed by an invalidation. */
export function bookingRoutes(context: ApiContext) {
  return async (app: FastifyInstance) => {
    app.post('/bookings', async (request, reply) => {
      const body = parseInput(bookingBodySchema, request.body, 'body')
      const bookingId = body.bookingId ?? randomUUID()
      const sagaId = `booking:${bookingId}`
      const outcome = await context.runner.run(
        context.bookingSaga,
        { ...body, bookingId, tenantId: context.config.TENANT_ID },
        { sagaId },
      )
      const done = context.bookingSaga.steps
        .map((step) => step.name)
        .filter((name) => name in outcome.results)
      const saga = { id: sagaId, state: outcome.state, steps: done }
      const commit = outcome.results.commit
      if (commit) {
        // Committed: the booking stands even if a later step is parked for an operator.
        return reply.status(201).send({
          booking: { id: bookingId, staffId: body.staffId, startsAt: commit.startsAt, endsAt: commit.endsAt },
          saga,
        })
      }
      // A domain refusal carries the booking's own code as a field (see the saga's `refuseAsDomain`).
      const message = outcome.error?.message ?? `saga ended ${outcome.state}`
      const { status, body: error } = errorReply(outcome.error?.domainCode ?? 'SAGA_FAILED', message)
      return reply.status(status).send({ ...error, saga })
    })

    app.post('/bookings/:id/cancel', async (request) => {
      const { id } = parseInput(bookingParamsSchema, request.params, 'params')
      const booking = await context.bookings.cancel(context.config.TENANT_ID, id)
      const { timeZone } = await loadStaffProfile(context.pool, booking.staffId)
      await context.invalidate(
        targetForBookedTimes(booking.staffId, timeZone, [isoTimes(booking)]),
        'cancellation',
      )
      return { booking: { ...booking, ...isoTimes(booking) } }
    })

    app.post('/bookings/:id/reschedule', async (request) => {
      const { id } = parseInput(bookingParamsSchema, request.params, 'params')
      const { startsAt } = parseInput(rescheduleBodySchema, request.body, 'body')
      const { previous, ...booking } = await context.bookings.reschedule(
        context.config.TENANT_ID,
        id,
        new Date(startsAt),
      )
      const { timeZone } = await loadStaffProfile(context.pool, booking.staffId)
      await context.invalidate(
        targetForBookedTimes(booking.staffId, timeZone, [isoTimes(previous), isoTimes(booking)]),
        'reschedule',
      )
      return { booking: { ...booking, ...isoTimes(booking) }, previous: isoTimes(previous) }
    })
  }
}

function isoTimes(booking: { startsAt: Date; endsAt: Date }) {
  return { startsAt: booking.startsAt.toISOString(), endsAt: booking.endsAt.toISOString() }
}
