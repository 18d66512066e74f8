import { createCache } from '@cachesaga/core'
import {
  appendToOutbox,
  ChangeListener,
  defineChangeCapture,
  installOutbox,
  invalidateOnChange,
  OutboxRelay,
  watchTable,
} from '@cachesaga/postgres'
import pg from 'pg'

// A restaurant's own schema: ten tables a night, and the reservations that take them.
const database = process.env.DATABASE_URL!
const db = new pg.Pool({ connectionString: database })
await db.query(`CREATE TABLE reservations (
  id int PRIMARY KEY, night date NOT NULL, guest text NOT NULL, party int NOT NULL)`)

// What each change invalidates: a reservation's night, before and after (a moved one frees the old night).
const capture = defineChangeCapture({
  tables: [
    watchTable('reservations', {
      columns: ['id', 'night'],
      targets: (row) => ({ tags: [`night:${row.night}`] }),
    }),
  ],
})
await capture.install({ database, source: 'triggers' }) // or capture.migrationSql(...) for your migration tool
await installOutbox({ database })

const cache = createCache({
  namespace: 'restaurant',
  redis: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
})
await cache.ready()
const freeTables = (night: string) =>
  cache.getOrSet(
    `free:${night}`,
    async () => {
      const { rows } = await db.query('SELECT count(*)::int AS taken FROM reservations WHERE night = $1', [
        night,
      ])
      return 10 - rows[0].taken
    },
    { tags: [`night:${night}`] },
  )

// Every committed change, from any code path or from psql, invalidates what it touched.
let invalidated: () => void = () => {}
const listener = new ChangeListener({
  database,
  capture,
  name: 'restaurant-api',
  onChange: invalidateOnChange({
    cache,
    capture,
    onInvalidated: (change) => {
      console.log(`invalidated after ${change.operation} of ${change.table}`)
      invalidated()
    },
  }),
})
await listener.start()
const nextInvalidation = () => new Promise<void>((resolve) => (invalidated = resolve))

console.log('free on the 14th:', await freeTables('2026-02-14'))

// The app books a table, and records the event for the queue in the same transaction.
const booked = nextInvalidation()
const client = await db.connect()
await client.query('BEGIN')
await client.query(`INSERT INTO reservations VALUES (1, '2026-02-14', 'Ada', 2)`)
await appendToOutbox(client, [{ type: 'reservation.made', id: 1, night: '2026-02-14' }])
await client.query('COMMIT')
client.release()
await booked
console.log('free on the 14th:', await freeTables('2026-02-14'))

// Someone moves it by hand in psql: both nights are invalidated.
console.log('free on the 15th:', await freeTables('2026-02-15'))
const moved = nextInvalidation()
await db.query(`UPDATE reservations SET night = '2026-02-15' WHERE id = 1`)
await moved
console.log('after the move:', await freeTables('2026-02-14'), await freeTables('2026-02-15'))

// The relay hands outbox events to a dispatcher (@cachesaga/queue's Dispatcher fits), each at least once.
const relay = new OutboxRelay({
  database,
  dispatcher: { dispatchAll: async (events) => console.log('dispatched', events) },
})
console.log('relayed', await relay.relayPending())

await relay.stop()
await listener.stop()
await cache.close()
await db.end()
