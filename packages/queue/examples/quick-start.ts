import { randomUUID } from 'node:crypto'
import { Dispatcher, defineHandlers, EventBus, QueueAdmin, startWorkers } from '@cachesaga/queue'

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const prefix = `quick-start-${randomUUID().slice(0, 8)}`

// In production this module is what `cachesaga-worker --handlers` loads.
let done: () => void
const finished = new Promise<void>((resolve) => {
  done = resolve
})
const applied = new Set<string>()
const handlers = defineHandlers({
  'booking.created': async (event, { idempotencyKey }) => {
    // A real handler records the key in the same transaction as its effect; see "Exactly-once effects".
    if (!applied.has(idempotencyKey)) {
      applied.add(idempotencyKey)
      console.log(`invalidate availability of ${event.payload.staffId} from ${event.payload.slot.start}`)
    }
    done()
  },
})
const workers = await startWorkers({ redisUrl, prefix, queues: ['booking'], handlers, log: () => {} })

// After the booking is committed: an in-process signal, then the durable event.
const bus = new EventBus()
bus.on('booking.*', (event) => console.log(`bus saw ${event.type}`))
const event = {
  type: 'booking.created',
  version: 2,
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
await bus.publish(event)

const dispatcher = new Dispatcher({ redisUrl, prefix })
const receipt = await dispatcher.dispatch(event)
console.log(`queued on ${receipt.queue}`)
await finished

try {
  await dispatcher.dispatch({ ...event, eventId: 'not-a-uuid' })
} catch (error) {
  console.log((error as Error).message)
}

const admin = new QueueAdmin({ redisUrl, prefix })
await workers.close({ deadlineMs: 5_000 })
const stats = await admin.stats('booking')
console.log(`completed: ${stats.counts.completed}, lag samples: ${stats.lag.count}`)
await Promise.all([dispatcher.close(), admin.close()])
