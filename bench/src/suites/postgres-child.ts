// The consumer of the postgres suite, in its own process: a cache with its memory tier and bus, and a change
// listener (triggers or replication) that invalidates it. It reports, per change, the wall-clock time at which
// the invalidation was applied, keyed by the change's sequence number.
import { performance } from 'node:perf_hooks'
import { createCache } from '@cachesaga/core'
import { ChangeListener, invalidateOnChange, ReplicationListener } from '@cachesaga/postgres'
import { benchCapture } from './postgres-capture.js'

const [source, databaseUrl, redisUrl, namespace] = process.argv.slice(2)
if ((source !== 'triggers' && source !== 'replication') || !databaseUrl || !redisUrl || !namespace) {
  console.error('usage: postgres-child <triggers|replication> <databaseUrl> <redisUrl> <namespace>')
  process.exit(2)
}
const cache = createCache({ namespace, redis: redisUrl })
await cache.ready()
let applied: Array<[number, number]> = []
const onChange = invalidateOnChange({
  cache,
  capture: benchCapture,
  onInvalidated: (change) =>
    applied.push([Number(change.new?.v), performance.timeOrigin + performance.now()]),
})
const listener =
  source === 'triggers'
    ? new ChangeListener({ database: databaseUrl, capture: benchCapture, name: 'bench', onChange })
    : new ReplicationListener({ database: databaseUrl, capture: benchCapture, slot: 'bench', onChange })
listener.on('failure', (error) => console.error('[postgres-child]', error))
await listener.start()
const flush = setInterval(() => {
  if (applied.length === 0) return
  process.send?.({ type: 'applied', applied })
  applied = []
}, 20)
process.on('message', async (message: { type: string }) => {
  if (message.type !== 'exit') return
  clearInterval(flush)
  if (applied.length > 0) process.send?.({ type: 'applied', applied })
  await listener.stop()
  await cache.close()
  process.send?.({ type: 'stopped' })
  process.exit(0)
})
process.send?.({ type: 'ready' })
