import Fastify, { type FastifyInstance } from 'fastify'
import type { ApiContext } from '../api/api-context.js'
import { replyError } from './reply-error.js'
import { adminRoutes } from './routes/admin-routes.js'
import { availabilityRoutes } from './routes/availability-routes.js'
import { bookingRoutes } from './routes/booking-routes.js'
import { webhookRoutes } from './routes/webhook-routes.js'

/** The booking API: each group of routes is its own plugin over the process's context. */
export async function buildServer(context: ApiContext): Promise<FastifyInstance> {
  const app = Fastify({ logger: { level: 'warn' } })
  app.setErrorHandler(replyError)
  await app.register(availabilityRoutes(context))
  await app.register(bookingRoutes(context))
  await app.register(webhookRoutes(context))
  await app.register(adminRoutes(context))
  return app
}
