import { Dispatcher } from '@cachesaga/queue'
import pg from 'pg'
import { outboxToDomainEvent } from '../events/to-domain-event.js'
import { OutboxRelay } from '../outbox/outbox-relay.js'
import { readStoresEnv } from './process-env.js'
import { stopOnSignal } from './stop-on-signal.js'

/**
 * The outbox relay process: moves committed booking events from PostgreSQL to the queues. Any number may
 * run; SIGTERM or SIGINT stops it between batches.
 */
const env = readStoresEnv(process.env)
const pool = new pg.Pool({ connectionString: env.DATABASE_URL, max: 4 })
pool.on('error', () => {})
const dispatcher = new Dispatcher({ redisUrl: env.REDIS_URL, prefix: env.QUEUE_PREFIX })
const relay = new OutboxRelay({
  pool,
  publish: async (message) => {
    await dispatcher.dispatch(outboxToDomainEvent(message))
  },
})
relay.on('failure', (error) => process.stderr.write(`${JSON.stringify({ relayFailure: error.message })}\n`))
await relay.start()
process.stdout.write(`${JSON.stringify({ relaying: true })}\n`)

stopOnSignal(async () => {
  await relay.stop()
  await dispatcher.close()
  await pool.end()
})
