import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { BookingDemoError } from '../errors.js'

/** HTTP status of each `BookingDemoErrorCode`; anything else is a 500. */
const STATUS_OF: Record<string, number> = {
  BOOKING_ERR_INVALID_INPUT: 400,
  BOOKING_ERR_NOT_FOUND: 404,
  BOOKING_ERR_SLOT_TAKEN: 409,
  BOOKING_ERR_TIME_NOT_OFFERED: 422,
}

/** The status and body for a booking error code, so routes that only have a code answer the same way. */
export function errorReply(code: string, message: string) {
  return { status: STATUS_OF[code] ?? 500, body: { error: { code, message } } }
}

/** Fastify's error handler: booking errors by their code, fastify's own 4xx (bad JSON) as they are. */
export function replyError(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) {
  if (error instanceof BookingDemoError) {
    const { status, body } = errorReply(error.code, error.message)
    return reply.status(status).send(body)
  }
  const status = (error as FastifyError).statusCode
  if (status !== undefined && status >= 400 && status < 500) {
    return reply
      .status(status)
      .send({ error: { code: (error as FastifyError).code, message: error.message } })
  }
  request.log.error(error)
  return reply.status(500).send({ error: { code: 'INTERNAL', message: error.message } })
}
