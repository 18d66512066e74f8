import { bookingCatalog, Dispatcher } from '@cachesaga/queue'
import pg from 'pg'
import { z } from 'zod'
import { HistoryPruner } from '../db/history-pruner.js'
import { outboxToDomainEvent } from '../events/to-domain-event.js'
import { OutboxRelay } from '../outbox/outbox-relay.js'
import { parseInput } from '../parse-input.js'
import { storesEnvSchema } from './process-env.js'
import { stopOnSignal } from './stop-on-signal.js'

/**
 * The outbox relay process: moves committed booking events from PostgreSQL to the queues, and prunes
 * published events and read changes older than HISTORY_RETENTION_DAYS (default 7) every hour. Any number
 * may run; SIGTERM or SIGINT stops it between batches.
 */
const relayEnvSchema = storesEnvSchema.extend({
  HISTORY_RETENTION_DAYS: z.coerce.number().positive().default(7),
})
const env = parseInput(relayEnvSchema, process.env, 'env')
const pool = new pg.Pool({ connectionString: env.DATABASE_URL, max: 4 })
pool.on('error', () => {})
const dispatcher = new Dispatcher({ redis: env.REDIS_URL, prefix: env.QUEUE_PREFIX, catalog: bookingCatalog })
const relay = new OutboxRelay({
  pool,
  publish: async (message) => {
    await dispatcher.dispatch(outboxToDomainEvent(message))
  },
})
relay.on('failure', (error) => process.stderr.write(`${JSON.stringify({ relayFailure: error.message })}\n`))
const pruner = new HistoryPruner({ pool, retentionMs: Math.round(env.HISTORY_RETENTION_DAYS * 86_400_000) })
pruner.on('failure', (error) => process.stderr.write(`${JSON.stringify({ pruneFailure: error.message })}\n`))
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
  await pool.end()
})
