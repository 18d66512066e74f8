import { HistoryPruner, OutboxRelay } from '@cachesaga/postgres'
import { bookingCatalog, Dispatcher } from '@cachesaga/queue'
import { z } from 'zod'
import type { BookingEvent } from '../bookings/booking-events.js'
import { parseInput } from '../parse-input.js'
import { traceToFiles } from '../tracing/trace-to-files.js'
import { readStoresEnv } from './process-env.js'
import { stopOnSignal } from './stop-on-signal.js'

/**
 * The outbox relay process: @cachesaga/postgres's `OutboxRelay` moves committed booking events to the queues
 * (any number may run), and its `HistoryPruner` deletes published events and changes every listener has
 * passed, once older than HISTORY_RETENTION (default 7 days), every hour. SIGTERM or SIGINT stops it.
 */
traceToFiles('relay')
const env = readStoresEnv(process.env)
const { HISTORY_RETENTION } = parseInput(
  z.object({ HISTORY_RETENTION: z.string().min(1).default('7d') }),
  process.env,
  'env',
)
const dispatcher = new Dispatcher({ redis: env.redis, prefix: env.QUEUE_PREFIX, catalog: bookingCatalog })
// The outbox holds the queue's events as they are: the event id decided at commit travels unchanged.
const relay = new OutboxRelay<BookingEvent>({ database: env.DATABASE_URL, dispatcher })
relay.on('failure', (error) =>
  process.stderr.write(`${JSON.stringify({ relayFailure: (error as Error).message })}\n`),
)
const pruner = new HistoryPruner({ database: env.DATABASE_URL, retention: HISTORY_RETENTION })
pruner.on('failure', (error) =>
  process.stderr.write(`${JSON.stringify({ pruneFailure: (error as Error).message })}\n`),
)
pruner.on('pruned', (pruned) => {
  if (pruned.outbox + pruned.changes > 0) process.stdout.write(`${JSON.stringify({ pruned })}\n`)
})
await relay.start()
pruner.start()
process.stdout.write(`${JSON.stringify({ relaying: true })}\n`)

stopOnSignal(async () => {
  await pruner.stop()
  await relay.stop()
  await dispatcher.close()
})
