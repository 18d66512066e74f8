import { randomUUID } from 'node:crypto'
import fp from 'fastify-plugin'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'

const calendarWebhookSchema = z.object({ calendarId: z.string().min(1).max(200) })

/**
 * `POST /webhooks/calendar`: the provider says a calendar changed (signed: `signed-webhooks` checked it). Only a deduplicated `external-sync` job
 * is queued (a burst for one calendar collapses into one pending sync); the worker pulls the changes with
 * the sync token and invalidates availability, so the webhook answers at once and never loses a change.
 */
const routes: FastifyPluginAsyncZod = async (app) => {
  app.post('/webhooks/calendar', { schema: { body: calendarWebhookSchema } }, async (request, reply) => {
    const { calendarId } = request.body
    const receipt = await app.dispatcher.dispatch({
      type: 'calendar.changed',
      version: 1,
      eventId: randomUUID(),
      occurredAt: new Date().toISOString(),
      tenantId: app.config.TENANT_ID,
      payload: { calendarId, provider: 'caldav' },
    })
    app.activity.add(
      `calendar ${calendarId} changed: sync ${receipt.deduplicated ? 'already pending' : 'queued'}`,
    )
    return reply
      .status(202)
      .send({ queue: receipt.queue, jobId: receipt.jobId, deduplicated: receipt.deduplicated })
  })
}

export const webhookRoutes = fp(routes, {
  name: 'webhook-routes',
  dependencies: ['config', 'queues', 'metrics', 'signed-webhooks'],
  encapsulate: true,
})
