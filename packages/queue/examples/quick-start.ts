import { randomUUID } from 'node:crypto'
import {
  bookingEvents,
  Dispatcher,
  defineCatalog,
  defineEvent,
  defineHandlers,
  EventBus,
  QueueAdmin,
  QueueError,
  startWorkers,
} from '@cachesaga/queue'
import { z } from 'zod'

const redis = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const prefix = `{quick-start-${randomUUID().slice(0, 8)}}`

// The app's own event, defined next to the built-in booking ones. Version 1 named one day; version 2 names several,
// and an upcaster reads a version 1 event (from a producer not yet upgraded) as version 2.
const staffScheduleChanged = defineEvent('staff.schedule.changed')
  .version(1, z.object({ staffId: z.string(), day: z.iso.date() }))
  .version(2, z.object({ staffId: z.string(), days: z.array(z.iso.date()).min(1) }), (v1) => ({
    staffId: v1.staffId,
    days: [v1.day],
  }))
  .options({ queue: 'staff' })
const catalog = defineCatalog([...bookingEvents, staffScheduleChanged])

// In production this module is what `cachesaga-worker --handlers` loads.
const handled = { booking: () => {}, schedule: () => {} }
const bookingHandled = new Promise<void>((resolve) => {
  handled.booking = resolve
})
const scheduleHandled = new Promise<void>((resolve) => {
  handled.schedule = resolve
})
const applied = new Set<string>()
const handlers = defineHandlers({
  catalog,
  events: {
    'booking.created': async (event, { idempotencyKey }) => {
      // A real handler records the key in the same transaction as its effect; see "Exactly-once effects".
      if (!applied.has(idempotencyKey)) {
        applied.add(idempotencyKey)
        console.log(`invalidate availability of ${event.payload.staffId} from ${event.payload.slot.start}`)
      }
      handled.booking()
    },
    'staff.schedule.changed': async (event) => {
      console.log(`invalidate the schedule of ${event.payload.staffId} on ${event.payload.days.join(', ')}`)
      handled.schedule()
    },
  },
})
const workers = await startWorkers({
  redis,
  prefix,
  queues: ['booking', 'staff'],
  ...handlers,
  log: () => {},
})

// After the booking is committed: an in-process signal, then the durable event.
const bus = new EventBus<Record<string, never>, typeof catalog>()
bus.on('booking.*', (event) => console.log(`bus saw ${event.type}`))
const booked = {
  type: 'booking.created',
  eventId: randomUUID(),
  occurredAt: new Date().toISOString(),
  tenantId: 'clinic-42',
  payload: {
    bookingId: 'bk-1',
    staffId: 'dr-ada',
    serviceId: 'checkup',
    slot: { start: '2026-03-02T09:00:00Z', end: '2026-03-02T09:30:00Z' },
  },
} as const
await bus.publish(catalog.parse({ ...booked, version: 2 }))

const dispatcher = new Dispatcher({ redis, prefix, catalog })
const receipt = await dispatcher.dispatch(booked)
console.log(`queued on ${receipt.queue}`)
await bookingHandled
await dispatcher.dispatch({
  type: 'staff.schedule.changed',
  eventId: randomUUID(),
  occurredAt: new Date().toISOString(),
  tenantId: 'clinic-42',
  payload: { staffId: 'dr-ada', days: ['2026-03-02', '2026-03-03'] },
})
await scheduleHandled

// A version 1 event, as an older producer sends it, reaches handlers as version 2.
const old = {
  ...booked,
  type: 'staff.schedule.changed',
  version: 1,
  payload: { staffId: 'dr-bo', day: '2026-03-04' },
}
console.log(JSON.stringify(catalog.parse(old).payload))

try {
  await dispatcher.dispatch({ ...booked, eventId: 'not-a-uuid' })
} catch (error) {
  if (error instanceof QueueError) console.log(`${error.code} ${error.message}`)
}

const admin = new QueueAdmin({ redis, prefix })
await workers.close({ timeout: '5s' })
const stats = await admin.stats('booking')
console.log(`completed: ${stats.counts.completed}, lag samples: ${stats.lag.count}`)
await Promise.all([dispatcher.close(), admin.close()])
