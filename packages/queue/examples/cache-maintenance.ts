import { randomUUID } from 'node:crypto'
import { createCache } from '@cachesaga/core'
import { scheduleCacheMaintenance, startWorkers } from '@cachesaga/queue'

const redis = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const namespace = `maintenance-${randomUUID().slice(0, 8)}`
const prefix = `{${namespace}}`

const cache = createCache({ namespace, redis })
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
const worker = await startWorkers({ redis, prefix, maintainer: cache.warmer, log: () => {} })
await scheduleCacheMaintenance({
  redis,
  prefix,
  schedules: [
    { id: 'warm-services', every: '1m', job: { task: 'warm', names: ['services'] } },
    { id: 'refresh-sweep', pattern: '*/5 * * * *', job: { task: 'refresh' } },
  ],
})
await firstRun
await worker.close({ timeout: '5s' })
console.log(`warmed: ${JSON.stringify(await cache.get('service:haircut'))}`)
await cache.close()
