import { Queue } from 'bullmq'
import { describe, expect, it } from 'vitest'
import { CACHE_MAINTENANCE_QUEUE } from '../queues/internal-queues.js'
import { eventually } from '../test-support/eventually.js'
import { useRedis } from '../test-support/use-redis.js'
import { startWorkers, type WorkerGroup } from '../worker/worker-group.js'
import type { CacheMaintainer } from './cache-maintainer.js'
import { scheduleCacheMaintenance } from './schedule-maintenance.js'

const redis = useRedis()
const quiet = () => {}

/** A maintainer that records each call, standing in for `cache.warmer`. */
function recordingMaintainer(calls: string[]): CacheMaintainer {
  return {
    warm: async (names) => {
      calls.push(`warm:${(names ?? []).join(',')}`)
    },
    refresh: async () => {
      calls.push('refresh')
    },
  }
}

describe('scheduled cache maintenance', () => {
  it('two workers and two scheduling instances produce exactly one run per tick', async () => {
    const prefix = '{maint-once}'
    const calls: string[] = []
    const workers: WorkerGroup[] = []
    for (let i = 0; i < 2; i++) {
      workers.push(
        await startWorkers({
          redis: redis.server.url,
          prefix,
          maintainer: recordingMaintainer(calls),
          log: quiet,
        }),
      )
    }
    // Every instance upserts the same schedule at startup: still one scheduler.
    const schedule = { id: 'warm-staff', every: 200, job: { task: 'warm' as const, names: ['staff'] } }
    await scheduleCacheMaintenance({ redis: redis.server.url, prefix, schedules: [schedule] })
    await scheduleCacheMaintenance({ redis: redis.server.url, prefix, schedules: [schedule] })
    await eventually('four maintenance runs', async () => calls.length >= 4)
    await Promise.all(workers.map((worker) => worker.close({ timeout: '5s' })))

    const queue = new Queue(CACHE_MAINTENANCE_QUEUE, { connection: redis.redis, prefix })
    try {
      expect(await queue.getJobSchedulersCount()).toBe(1)
      const completed = await queue.getCompleted()
      // Each tick is one job (its id names the tick), and each job ran once.
      const ticks = new Set(completed.map((job) => job.id))
      expect(ticks.size).toBe(completed.length)
      expect(calls).toHaveLength(completed.length)
      expect(new Set(calls)).toEqual(new Set(['warm:staff']))
    } finally {
      await queue.obliterate({ force: true })
      await queue.close()
    }
  })

  it('a refresh schedule calls one sweep per run', async () => {
    const calls: string[] = []
    const worker = await startWorkers({
      redis: redis.server.url,
      prefix: '{maint-refresh}',
      maintainer: recordingMaintainer(calls),
      log: quiet,
    })
    await scheduleCacheMaintenance({
      redis: redis.server.url,
      prefix: '{maint-refresh}',
      schedules: [{ id: 'sweep', every: 100, job: { task: 'refresh' } }],
    })
    await eventually('a refresh run', async () => calls.length >= 1)
    await worker.close({ timeout: '5s' })
    expect(calls[0]).toBe('refresh')
  })

  it('rejects a schedule with neither every nor pattern, naming the field', async () => {
    await expect(
      scheduleCacheMaintenance({
        redis: redis.server.url,
        schedules: [{ id: 'x', job: { task: 'refresh' } }],
      }),
    ).rejects.toMatchObject({
      code: 'CSQ_ERR_INVALID_OPTIONS',
      message: 'schedules.0.every: give exactly one of every or pattern',
    })
  })
})
