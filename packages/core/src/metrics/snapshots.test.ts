import { describe, expect, it } from 'vitest'
import { createCache } from '../index.js'
import { eventually } from '../test-support/gates.js'
import { useTestRedis } from '../test-support/test-redis.js'

const redis = useTestRedis()

describe('instance snapshots', () => {
  it('a process without traffic reads the stats and health the live instances wrote, not its own', async () => {
    const [a, b] = await redis.caches(2, { snapshotEvery: 50 })
    await a!.getOrSet('k', () => 1)
    await a!.getOrSet('k', () => 1)
    const observer = redis.track(
      createCache({ namespace: redis.namespace, redis: redis.server.url, snapshotEvery: false }),
    )
    const snapshots = (await eventually(async () => {
      const found = await observer.instances()
      const ofA = found.find((snapshot) => snapshot.instanceId === a!.instanceId)
      return found.length === 2 && ofA?.stats.l1.hits === 1 ? found : undefined
    }, 'snapshots of both instances, a with its hit'))!
    expect(snapshots.map((snapshot) => snapshot.instanceId).sort()).toEqual(
      [a!.instanceId, b!.instanceId].sort(),
    )
    expect(snapshots[0]!.health.status).toBe('healthy')
    expect(await a!.instances()).toHaveLength(1)
  })

  it('a closed instance leaves the live list at once, not when its snapshot would expire', async () => {
    // A period long enough that expiry (three periods) cannot be what removes it within this test.
    const [a, b] = await redis.caches(2, { snapshotEvery: '1m' })
    const observer = redis.track(
      createCache({ namespace: redis.namespace, redis: redis.server.url, snapshotEvery: false }),
    )
    await eventually(async () => (await observer.instances()).length === 2, 'both snapshots')
    await a!.close()
    expect((await observer.instances()).map((snapshot) => snapshot.instanceId)).toEqual([b!.instanceId])
  })
})
