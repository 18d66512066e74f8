// Run as a child process by redis-outage.test.ts: dispatches to a Redis that is not there, so the test can check the
// bounded, coded failure and that nothing at all was printed on stderr. Prints one JSON line per call on stdout.
import { CachesagaError } from '@cachesaga/common'
import { bookingCatalog, Dispatcher, QueueAdmin } from '../index.js'
import { aBookingCreated } from './events.js'

const redis = process.env.REDIS_URL ?? ''
const options = { redis, timeout: 500 }
const calls: Record<string, () => Promise<unknown>> = {
  dispatch: () => new Dispatcher({ ...options, catalog: bookingCatalog }).dispatch(aBookingCreated()),
  stats: () => new QueueAdmin(options).stats('booking'),
}
for (const [name, call] of Object.entries(calls)) {
  const started = performance.now()
  try {
    await call()
    console.log(JSON.stringify({ name, outcome: 'resolved' }))
  } catch (error) {
    const { code, message, details } = error as CachesagaError
    const coded = error instanceof CachesagaError
    console.log(
      JSON.stringify({ name, coded, code, message, details, elapsedMs: performance.now() - started }),
    )
  }
}
// The dispatcher and the admin are left open on purpose: their reconnect attempts must stay quiet too.
await new Promise((resolve) => setTimeout(resolve, 1_000))
process.exit(0)
