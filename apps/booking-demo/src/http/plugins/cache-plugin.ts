import type { Cache } from '@cachesaga/core'
import fp from 'fastify-plugin'
import { createAvailabilityCache } from '../../cache/availability-cache.js'
import { AvailabilityReader } from '../../cache/availability-reader.js'

declare module 'fastify' {
  interface FastifyInstance {
    cache: Cache
    availability: AvailabilityReader
  }
}

/** How often this instance's consistency checker compares cached availability with PostgreSQL. */
const CONSISTENCY_CHECK_EVERY_MS = 30_000

/**
 * The availability cache and its read path. Its consistency checker runs every 30 s on a sample of Redis and of
 * every instance's L1 (`medium`), so `/admin/cache/health` has a recent score; the first run is 5 s after start.
 */
export const cachePlugin = fp(
  async (app) => {
    const cache = await createAvailabilityCache(app.config.redis, { pool: app.pool })
    app.decorate('cache', cache)
    app.decorate('availability', new AvailabilityReader(cache, app.pool, app.config.TENANT_ID))
    const check = () => {
      cache.checker.check({ level: 'medium', sample: 50 }).catch((error: unknown) => {
        app.log.warn({ error }, 'consistency check failed')
      })
    }
    const first = setTimeout(check, 5_000)
    const every = setInterval(check, CONSISTENCY_CHECK_EVERY_MS)
    first.unref()
    every.unref()
    app.addHook('onClose', async () => {
      clearTimeout(first)
      clearInterval(every)
      await cache.close()
    })
  },
  { name: 'cache', dependencies: ['config', 'database'] },
)
