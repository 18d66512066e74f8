import helmet from '@fastify/helmet'
import Fastify, { type FastifyInstance } from 'fastify'
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod'
import { requestSpansPlugin } from '../tracing/request-spans-plugin.js'
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
import { operatorAuthPlugin } from './security/operator-auth-plugin.js'
import { limitRequests, rateLimitStorePlugin } from './security/rate-limits.js'
import { signedWebhooksPlugin } from './security/signed-webhooks-plugin.js'

/**
 * The booking API. The infrastructure plugins decorate the instance (each declares what it depends on, and
 * closes what it opened); the routes come in four groups, each registered in a scope of its own, so that
 * whatever must stand in front of one group (authentication, signature checks, rate limits) is registered in
 * that scope before its routes and reaches no other group. Every answer carries helmet's security headers, and
 * no body over `BODY_LIMIT_BYTES` is read (413).
 */
export async function buildServer(
  config: ApiConfig,
  options: { traced?: boolean } = {},
): Promise<FastifyInstance> {
  const app = Fastify({
    logger: { level: 'warn' },
    bodyLimit: config.BODY_LIMIT_BYTES,
    trustProxy: config.TRUST_PROXY ?? false,
  })
  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(serializerCompiler)
  app.setErrorHandler(replyError)
  // Before any route: it wraps each route's handler in the request's span (tracing on: see trace-to-files.ts).
  if (options.traced === true) await app.register(requestSpansPlugin)
  await app.register(helmet, {
    contentSecurityPolicy: {
      // helmet's policy (scripts and everything else from this origin only), but without upgrading requests to
      // https: the demo serves plain HTTP on localhost; a deployment puts TLS in front (see the README).
      directives: { upgradeInsecureRequests: null },
    },
  })
  await app.register(configPlugin, { config })
  await app.register(databasePlugin)
  await app.register(cachePlugin)
  await app.register(queuesPlugin)
  await app.register(metricsPlugin)
  await app.register(bookingFlowsPlugin)
  await app.register(changeCapturePlugin)
  await app.register(rateLimitStorePlugin)
  // Public reads.
  await app.register(async (group) => {
    await limitRequests(group, 'reads', config.RATE_LIMIT_READS)
    await group.register(availabilityRoutes)
  })
  // Customers' bookings: changing one needs its management token (checked by the routes, per booking).
  await app.register(async (group) => {
    await limitRequests(group, 'bookings', config.RATE_LIMIT_BOOKINGS)
    await group.register(bookingRoutes)
  })
  // Calls from calendar providers: signed.
  await app.register(async (group) => {
    await limitRequests(group, 'webhooks', config.RATE_LIMIT_WEBHOOKS)
    await group.register(signedWebhooksPlugin)
    await group.register(webhookRoutes)
  })
  // Operators: HTTP Basic, the viewer read-only.
  await app.register(async (group) => {
    await group.register(operatorAuthPlugin)
    await group.register(adminRoutes)
  })
  return app
}
