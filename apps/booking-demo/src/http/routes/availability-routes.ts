import fp from 'fastify-plugin'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { BookingDemoError } from '../../errors.js'

const querySchema = z.object({
  staffId: z.uuid(),
  serviceId: z.uuid(),
  date: z.iso.date(),
})

/** `GET /availability`: free slots through the cache, saying which tier answered and under which generation. */
const routes: FastifyPluginAsyncZod = async (app) => {
  app.get('/availability', { schema: { querystring: querySchema } }, async (request) => {
    const read = await app.availability.read(request.query)
    app.latency.record(read.durationMs)
    app.history.recordRead(read.durationMs)
    const { availability } = read
    if (availability.tenantId !== app.config.TENANT_ID) {
      throw new BookingDemoError(
        'BOOKING_ERR_NOT_FOUND',
        `no staff ${request.query.staffId} in this tenant`,
        {
          details: { staffId: request.query.staffId },
        },
      )
    }
    return {
      ...availability,
      cache: {
        tier: read.tier,
        generation: read.generation,
        durationMs: Number(read.durationMs.toFixed(3)),
        // When this answer was read (ms since the epoch, sub-ms): how the load command dates what each instance showed.
        servedAt: Number((performance.timeOrigin + performance.now()).toFixed(3)),
      },
    }
  })
}

export const availabilityRoutes = fp(routes, {
  name: 'availability-routes',
  dependencies: ['cache', 'metrics'],
  encapsulate: true,
})
