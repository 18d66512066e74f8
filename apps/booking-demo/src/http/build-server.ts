import Fastify, { type FastifyInstance } from 'fastify'
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod'
import type { ApiConfig } from './api-config.js'
import { bookingFlowsPlugin } from './plugins/booking-flows-plugin.js'
import { cachePlugin } from './plugins/cache-plugin.js'
import { changeCapturePlugin } from './plugins/change-capture-plugin.js'
import { configPlugin } from './plugins/config-plugin.js'
import { databasePlugin } from './plugins/database-plugin.js'
import { metricsPlugin } from './plugins/metrics-plugin.js'
import { queuesPlugin } from './plugins/queues-plugin.js'
import { replyError } from './reply-error.js'
import { adminRoutes } from './routes/admin-routes.js'
import { availabilityRoutes } from './routes/availability-routes.js'
import { bookingRoutes } from './routes/booking-routes.js'
import { webhookRoutes } from './routes/webhook-routes.js'

/**
 * The booking API. The infrastructure plugins decorate the instance (each declares what it depends on, and
 * closes what it opened); the routes come in four groups, each registered in a scope of its own, so that
 * whatever must stand in front of one group (authentication, signature checks, rate limits) is registered in
 * that scope before its routes and reaches no other group.
 */
export async function buildServer(config: ApiConfig): Promise<FastifyInstance> {
  const app = Fastify({ logger: { level: 'warn' } })
  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(serializerCompiler)
  app.setErrorHandler(replyError)
  await app.register(configPlugin, { config })
  await app.register(databasePlugin)
  await app.register(cachePlugin)
  await app.register(queuesPlugin)
  await app.register(metricsPlugin)
  await app.register(bookingFlowsPlugin)
  await app.register(changeCapturePlugin)
  // Public reads.
  await app.register(async (group) => group.register(availabilityRoutes))
  // Customers' bookings.
  await app.register(async (group) => group.register(bookingRoutes))
  // Calls from calendar providers.
  await app.register(async (group) => group.register(webhookRoutes))
  // Operators.
  await app.register(async (group) => group.register(adminRoutes))
  return app
}
