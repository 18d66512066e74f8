import { errorCode } from '@cachesaga/common'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod'

/** HTTP status of each error code an answer can carry; any other code is a 500. */
const STATUS_OF: Readonly<Record<string, number>> = {
  BOOKING_ERR_INVALID_INPUT: 400,
  BOOKING_ERR_UNAUTHORIZED: 401,
  BOOKING_ERR_WEBHOOK_SIGNATURE: 401,
  BOOKING_ERR_FORBIDDEN: 403,
  BOOKING_ERR_NOT_FOUND: 404,
  BOOKING_ERR_BOOKING_EXISTS: 409,
  BOOKING_ERR_SLOT_TAKEN: 409,
  BOOKING_ERR_BOOKING_CHANGED: 409,
  BOOKING_ERR_TIME_NOT_OFFERED: 422,
  BOOKING_ERR_RATE_LIMITED: 429,
  // A store this request needed did not answer in time: worth retrying later.
  CS_ERR_REDIS_UNREACHABLE: 503,
  PG_ERR_UNREACHABLE: 503,
  BOOKING_ERR_CALENDAR_UNAVAILABLE: 503,
}

/** An error answer: its status comes from the code, which is always read from a field, never from a message. */
export function errorReply(code: string, message: string, details?: Readonly<Record<string, unknown>>) {
  return {
    status: STATUS_OF[code] ?? 500,
    body: { error: { code, message, ...(details !== undefined && { details }) } },
  }
}

/** How fastify names the part of a request a validation error is about; the answer says `query`, as the URL does. */
const PART: Readonly<Record<string, string>> = { querystring: 'query', body: 'body', params: 'params' }

/**
 * Fastify's error handler. A request that did not match its route's schema is `BOOKING_ERR_INVALID_INPUT`
 * naming each field (`body.customerEmail: Invalid email address`); any coded error (the demo's, a store's) is
 * answered by its `code` field; fastify's own 4xx (bad JSON) as they are; the rest is a 500.
 */
export function replyError(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) {
  if (hasZodFastifySchemaValidationErrors(error)) {
    const part = PART[error.validationContext ?? ''] ?? error.validationContext ?? 'request'
    const fields = error.validation.map((issue) =>
      [part, ...issue.instancePath.split('/').filter(Boolean)].join('.'),
    )
    const message = error.validation.map((issue, index) => `${fields[index]}: ${issue.message}`).join('; ')
    const { status, body } = errorReply('BOOKING_ERR_INVALID_INPUT', message, { field: fields[0] })
    return reply.status(status).send(body)
  }
  const code = errorCode(error)
  if (code !== undefined && code in STATUS_OF) {
    const { status, body } = errorReply(
      code,
      error.message,
      (error as { details?: Record<string, unknown> }).details,
    )
    return reply.status(status).send(body)
  }
  const status = (error as FastifyError).statusCode
  if (status !== undefined && status >= 400 && status < 500) {
    return reply.status(status).send({ error: { code: code ?? 'BAD_REQUEST', message: error.message } })
  }
  request.log.error(error)
  return reply.status(500).send({ error: { code: code ?? 'INTERNAL', message: error.message } })
}
