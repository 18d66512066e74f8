import { randomUUID } from 'node:crypto'
import { type RedisCluster, startRedisCluster } from '@cachesaga/testkit'
import { Cluster } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { QueueAdmin } from './admin/queue-admin.js'
import { bookingCatalog } from './events/booking-events.js'
import { InvalidationQueue } from './invalidation/invalidation-queue.js'
import { lagHistogramKey } from './metrics/lag-histogram.js'
import { Dispatcher } from './queues/dispatcher.js'
import { INVALIDATION_QUEUE } from './queues/internal-queues.js'
import { aBookingCreated, oneOfEach } from './test-support/events.js'
import { eventually } from './test-support/eventually.js'
import { scopedQueues } from './test-support/scoped-queues.js'
import { startWorkers, type WorkerGroup } from './worker/worker-group.js'

describe('on a 3-master Redis Cluster', () => {
  let cluster: RedisCluster
  let client: Cluster
  beforeAll(async () => {
    cluster = await startRedisCluster()
    client = new Cluster([...cluster.nodes])
  })
  afterAll(async () => {
    client.disconnect()
    await cluster.stop()
  })

  it('dispatches, runs workers with retries, keeps dead letters and answers QueueAdmin, all in one slot', async () => {
    const scoped = scopedQueues(client)
    // A Cluster handed in is duplicated, never closed; `{ cluster: nodes }` works the same.
    const options = { redis: client, prefix: scoped.prefix }
    const dispatcher = new Dispatcher({ ...options, catalog: bookingCatalog })
    const admin = new QueueAdmin(options)
    const invalidations = new InvalidationQueue({
      redis: { cluster: [...cluster.nodes] },
      prefix: scoped.prefix,
      backoff: 10,
    })
    const attempts = new Map<string, number>()
    const invalidated: unknown[] = []
    const handle = (event: { eventId: string }) => {
      const attempt = (attempts.get(event.eventId) ?? 0) + 1
      attempts.set(event.eventId, attempt)
      if (attempt < 3) throw new Error('database restarting')
    }
    let workers: WorkerGroup | undefined
    try {
      workers = await startWorkers({
        ...options,
        catalog: bookingCatalog,
        events: {
          'booking.created': handle,
          'booking.cancelled': handle,
          'booking.rescheduled': handle,
          'calendar.changed': handle,
        },
        invalidator: {
          invalidate: async (target) => {
            invalidated.push(target)
            return { ok: true }
          },
        },
        log: () => {},
      })
      const events = oneOfEach()
      const receipts = await dispatcher.dispatchAll(events)
      expect(receipts.map((receipt) => receipt.deduplicated)).toEqual([false, false, false, false])
      await eventually('every event, each after two retries', async () =>
        events.every((event) => attempts.get(event.eventId) === 3),
      )
      await invalidations.schedule({
        id: 'saga-1:invalidate:forward',
        sagaId: 'saga-1',
        step: 'invalidate',
        target: { tags: ['staff:s1'] },
        error: { name: 'Error', message: 'cache down' },
      })
      await eventually('the retried invalidation', async () => invalidated.length === 1)

      // A malformed job fails at once into the failed set: the dead letters.
      const bad = await scoped.queue('booking').add('booking.created', { ...aBookingCreated(), tenantId: '' })
      await eventually('the bad job to fail', async () => (await bad.getState()) === 'failed')
      const [letter] = await admin.deadLetters('booking')
      expect(letter).toMatchObject({ jobId: bad.id, attemptsMade: 1 })
      await admin.retry('booking', bad.id!)
      await eventually(
        'the retried job to fail again',
        async () => (await scoped.queue('booking').getJob(bad.id!))?.attemptsMade === 2,
      )
      const purge = await admin.requestPurge('booking')
      expect(purge.count).toBe(1)
      expect(await admin.purge('booking', purge.token)).toBe(1)

      await eventually('lag samples', async () => (await admin.stats('booking')).lag.count === 1)
      const stats = await admin.stats('booking')
      expect(stats.counts).toMatchObject({ completed: 1, failed: 0 })
      expect(stats.processed.total).toBe(1)

      // Every key of every queue, the lag histogram included, hashes to the prefix's slot.
      const slot = await client.cluster('KEYSLOT', scoped.prefix)
      const keys = (
        await Promise.all(client.nodes('master').map((node) => node.keys(`${scoped.prefix}:*`)))
      ).flat()
      expect(keys).toContain(lagHistogramKey(scoped.prefix, 'booking'))
      expect(keys.some((key) => key.startsWith(`${scoped.prefix}:${INVALIDATION_QUEUE}:`))).toBe(true)
      const slots = new Set(await Promise.all(keys.map((key) => client.cluster('KEYSLOT', key))))
      expect([...slots]).toEqual([slot])
    } finally {
      await workers?.close({ timeout: '5s' })
      await Promise.all([dispatcher.close(), admin.close(), invalidations.close(), scoped.close()])
    }
    expect(client.status).toBe('ready')
  })

  it('refuses a prefix without a hash tag, which would scatter a queue over slots', () => {
    expect(
      () => new QueueAdmin({ redis: { cluster: [...cluster.nodes] }, prefix: `app-${randomUUID()}` }),
    ).toThrow(expect.objectContaining({ code: 'CSQ_ERR_INVALID_OPTIONS' }))
  })
})
