// Handlers module loaded by `cachesaga-worker` in the multi-process tests. Its effects are counted in
// Redis; keys under test:hold:<eventId> let a test park a handler before or after its effect.
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import { defineHandlers, type HandlerContext } from '../index.js'
import { appCatalog } from './app-events.js'
import { LEDGER_KEYS, recordEffectOnce } from './effect-ledger.js'

// The ledger lives on a single Redis of the test's, also when the worker's queues are on a Cluster.
const redis = new Redis(process.env.TEST_LEDGER_URL || process.env.REDIS_URL || '')
// Tests take Redis away on purpose; the worker's own log must be the only thing on stderr.
redis.on('error', () => {})

async function holdWhile(eventId: string, stage: 'before-effect' | 'after-effect'): Promise<void> {
  while ((await redis.get(`test:hold:${eventId}`)) === stage) await sleep(20)
}

async function countedEffect(eventId: string, context: HandlerContext): Promise<void> {
  await redis.hincrby(LEDGER_KEYS.deliveries, context.idempotencyKey, 1)
  await redis.hincrby(LEDGER_KEYS.deliveriesByPid, String(process.pid), 1)
  await redis.set(`test:started:${eventId}`, String(process.pid))
  await holdWhile(eventId, 'before-effect')
  await recordEffectOnce(redis, context.idempotencyKey)
  await holdWhile(eventId, 'after-effect')
}

export default defineHandlers({
  catalog: appCatalog,
  events: {
    'booking.created': (event, context) => countedEffect(event.eventId, context),
    'booking.cancelled': (event, context) => countedEffect(event.eventId, context),
    'booking.rescheduled': (event, context) => countedEffect(event.eventId, context),
    'calendar.changed': async (event) => {
      await redis.incr(`test:sync-runs:${event.payload.calendarId}`)
    },
    // The event as the handler received it: at its latest version, whatever the producer sent.
    'room.cleaned': async (event) => {
      await redis.set(`test:room:${event.eventId}`, JSON.stringify(event))
    },
  },
  // The package's own queues, so one process runs them all: failed invalidations and scheduled maintenance.
  invalidator: {
    invalidate: async (target: object) => {
      await redis.rpush('test:invalidated', JSON.stringify(target))
      return { ok: true }
    },
  },
  maintainer: {
    warm: async (names) => redis.rpush('test:maintenance', `warm:${(names ?? []).join(',')}`),
    refresh: async () => redis.rpush('test:maintenance', 'refresh'),
  },
})
