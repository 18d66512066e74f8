import { closeRedis, openRedis } from '@cachesaga/common'
import rateLimit from '@fastify/rate-limit'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Cluster, Redis } from 'ioredis'
import { BookingDemoError } from '../../errors.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Where every instance counts the public routes' requests, so a limit holds across instances. */
    rateLimitRedis: Redis | Cluster
  }
}

/**
 * A limiter's Redis round trip is on every public request: a short timeout, after which the request goes on
 * unlimited (`skipOnError`) rather than failing; availability can still be served while Redis is away.
 */
const LIMITER_TIMEOUT_MS = 500

/** The connection the rate limits of every route group count on; one per instance. */
export const rateLimitStorePlugin = fp(
  async (app) => {
    const redis = openRedis(app.config.redis, {
      maxRetriesPerRequest: 1,
      commandTimeoutMs: LIMITER_TIMEOUT_MS,
      connectionName: `${app.config.INSTANCE_NAME}:rate-limit`,
    })
    // Redis being away lets requests through (see above) and shows on the dashboard; no log line per retry.
    redis.on('error', () => {})
    app.decorate<Redis | Cluster>('rateLimitRedis', redis)
    app.addHook('onClose', () => closeRedis(redis, 1_000))
  },
  { name: 'rate-limit-store', dependencies: ['config'] },
)

/** The public route groups, each with a budget of its own. */
export type LimitedGroup = 'reads' | 'bookings' | 'webhooks'

/**
 * Puts a rate limit in front of every route `scope` registers after this: `max` requests per client address and
 * `RATE_LIMIT_WINDOW`, counted in Redis (one key per group and address, a single-key script, so it works on a
 * cluster too) by every API instance together. Over the limit: 429 `BOOKING_ERR_RATE_LIMITED`, with
 * `Retry-After` and the `x-ratelimit-*` headers.
 */
export async function limitRequests(scope: FastifyInstance, group: LimitedGroup, max: number): Promise<void> {
  const windowMs = scope.config.RATE_LIMIT_WINDOW
  await scope.register(rateLimit, {
    redis: scope.rateLimitRedis,
    nameSpace: `booking-demo:rate-limit:${group}:`,
    max,
    timeWindow: windowMs,
    skipOnError: true,
    errorResponseBuilder: (_request, context) =>
      new BookingDemoError(
        'BOOKING_ERR_RATE_LIMITED',
        `more than ${context.max} requests in ${windowMs / 1_000} s from this address; retry in ${context.after}`,
        { details: { group, limit: context.max, windowMs, retryAfterMs: context.ttl } },
      ),
  })
}
