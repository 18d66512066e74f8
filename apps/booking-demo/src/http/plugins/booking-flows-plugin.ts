import { closeRedis, openRedis } from '@cachesaga/common'
import { type bookingCatalog, EventBus } from '@cachesaga/queue'
import fp from 'fastify-plugin'
import { BookingRepository } from '../../bookings/booking-repository.js'
import { SlotHolds } from '../../bookings/slot-holds.js'
import { calendarProviderFromEnv } from '../../calendar/caldav/caldav-env.js'
import { type BookingFlows, createBookingFlows } from '../../sagas/booking-flows.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The booking, cancellation and reschedule sagas and the runner that drives them. */
    flows: BookingFlows
  }
}

/** How long a slot hold outlives a saga that died holding it. */
const HOLD_MS = 30_000

/**
 * The booking sagas of this instance, on the PostgreSQL saga store in the app's database (through the process's
 * pool). The runner's recovery sweep also resumes sagas another instance left behind when it died (after their
 * lease runs out), whichever of the three they are.
 */
export const bookingFlowsPlugin = fp(
  async (app) => {
    const holdsRedis = openRedis(app.config.redis, { maxRetriesPerRequest: 2, commandTimeoutMs: 2_000 })
    const bus = new EventBus<Record<string, unknown>, typeof bookingCatalog>()
    bus.on('booking.*', (event) => {
      app.activity.add(
        `${event.type} ${event.payload.bookingId.slice(0, 8)} (event ${event.eventId.slice(0, 8)})`,
      )
    })
    const flows = createBookingFlows({
      cache: app.cache,
      pool: app.pool,
      bookings: new BookingRepository(app.pool),
      holds: new SlotHolds(holdsRedis, HOLD_MS),
      calendar: calendarProviderFromEnv(process.env),
      bus,
      events: {
        emit: (name, event) => {
          if (name === 'saga.compensated' || name === 'saga.parked') {
            app.activity.add(`saga ${event.sagaId} ${name.slice(5)}: ${event.error?.code ?? ''}`)
          }
        },
      },
    })
    flows.runner.start()
    app.decorate('flows', flows)
    app.addHook('onClose', async () => {
      await flows.close()
      await closeRedis(holdsRedis, 1_000)
    })
  },
  { name: 'booking-flows', dependencies: ['config', 'database', 'cache', 'metrics'] },
)
