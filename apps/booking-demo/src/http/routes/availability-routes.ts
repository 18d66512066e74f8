import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import type { ApiContext } from '../../api/api-context.js'
import { BookingDemoError } from '../../errors.js'
import { parseInput } from '../../parse-input.js'

const querySchema = z.object({
  staffId: z.uuid(),
  serviceId: z.uuid(),
  date: z.iso.date(),
})

/** `GET /availability`: free slots through the cache, saying which tier answered and under which generation. */
export function availabilityRoutes(context: ApiContext) {
  return async (app: FastifyInstance) => {
    app.get('/availability', async (request) => {
      const query = parseInput(querySchema, request.query, 'query')
      const read = await context.availability.read(query)
      context.latency.record(read.durationMs)
      const availability = read.availability
      if (availability.tenantId !== context.config.TENANT_ID) {
        throw new BookingDemoError('BOOKING_ERR_NOT_FOUND', `no staff ${query.staffId} in this tenant`)
      }
      return {
        ...availability,
        cache: {
          tier: read.tier,
          generation: read.generation,
          durationMs: Number(read.durationMs.toFixed(3)),
        },
      }
    })
  }
}
