// A relay in a process of its own that dies mid-batch: it dispatches its first batch to the real queue,
// tells the parent, and hangs before it can mark the batch published, until the parent kills it.
import { bookingCatalog, type DispatchEvent, Dispatcher } from '@cachesaga/queue'
import { OutboxRelay } from '../outbox/outbox-relay.js'

const [databaseUrl, redisUrl, prefix] = process.argv.slice(2)
if (!databaseUrl || !redisUrl || !prefix) {
  console.error('usage: relay-child <databaseUrl> <redisUrl> <prefix>')
  process.exit(2)
}
const dispatcher = new Dispatcher({ redis: redisUrl, prefix, catalog: bookingCatalog })
const relay = new OutboxRelay({
  database: databaseUrl,
  batchSize: 10,
  dispatcher: {
    dispatchAll: async (events: readonly DispatchEvent<typeof bookingCatalog>[]) => {
      await dispatcher.dispatchAll(events)
      process.send?.({ type: 'dispatched', count: events.length })
      await new Promise(() => {})
    },
  },
})
await relay.start()
