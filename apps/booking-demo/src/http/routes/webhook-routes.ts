import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import type { ApiContext } from '../../api/api-context.js'
import { parseInput } from '../../parse-input.js'

const calendarWebhookSchema = z.object({ calendarId: z.string().min(1).max(200) })

/**
 * `POST /webhooks/calendar`: the provider says a calendar changed. Only a deduplicated `external-sync` job
 * is queued (a burst for one calendar collapses into one pending sync); the worker pulls the changes with
 * the sync token and invalidates availability, so the webhook answers at once and never loses a change.
 */
export function webhookRoutes(context: ApiContext) {
  return async (app: FastifyInstance) => {
    app.post('/webhooks/calendar', async (request, reply) => {
      const { calendarId } = parseInput(calendarWebhookSchema, request.body, 'body')
      const receipt = await context.dispatcher.dispatch({
        type: 'calendar.changed',
        version: 1,
        eventId: randomUUID(),
        occurredAt: new Date().toISOString(),
        tenantId: context.config.TENANT_ID,
        payload: { calendarId, provider: 'caldav' },
      })
      context.activity.add(
        `calendar ${calendarId} changed: sync ${receipt.deduplicated ? 'already pending' : 'queued'}`,
      )
      return reply
        .status(202)
        .send({ queue: receipt.queue, jobId: receipt.jobId, deduplicated: receipt.deduplicated })
    })
  }
}
