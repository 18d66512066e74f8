import { randomUUID } from 'node:crypto'
import { createCache } from '@cachesaga/core'
import { scheduleCacheMaintenance, startCacheMaintenanceWorker } from '@cachesaga/queue'

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const prefix = `maintenance-${randomUUID().slice(0, 8)}`

const cache = createCache({ namespace: prefix, redis: redisUrl })
await cache.ready()
let warmed: () => void
const firstRun = new Promise<void>((resolve) => {
  warmed = resolve
})
cache.warmer.register('services', {
  keys: ['service:haircut'],
  loader: (key) => {
    warmed()
    return { key, minutes: 30 }
  },
})

// Every instance may run a worker and upsert the schedule at startup: BullMQ still runs each tick once.
const worker = await startCacheMaintenanceWorker({
  redisUrl,
  prefix,
  maintainer: cache.warmer,
  log: () => {},
})
await scheduleCacheMaintenance({
  redisUrl,
  prefix,
  schedules: [
    { id: 'warm-services', every: 60_000, job: { task: 'warm', names: ['services'] } },
    { id: 'refresh-sweep', pattern: '*/5 * * * *', job: { task: 'refresh' } },
  ],
})
await firstRun
await worker.close({ deadlineMs: 5_000 })
console.log(`warmed: ${JSON.stringify(await cache.get('service:haircut'))}`)
await cache.close()
