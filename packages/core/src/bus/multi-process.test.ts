import { describe, expect, it } from 'vitest'
import { type CacheProcess, spawnCacheProcess } from '../test-support/cache-processes.js'
import { eventually } from '../test-support/gates.js'
import { freshNamespace } from '../test-support/namespaces.js'
import { useTestRedis } from '../test-support/test-redis.js'

const redis = useTestRedis()

describe('instances in separate processes', () => {
  it('a delete in one process is seen by the other', async () => {
    const [local] = await redis.caches(1)
    const child = await spawnCacheProcess({
      namespace: redis.namespace,
      redis: redis.server.url,
      l2: { timeout: 2_000 },
    })
    try {
      expect(await child.call({ op: 'getOrSet', key: 'slot:9', value: 'free' })).toBe('free')
      // Now in the child's L1: without the bus it would keep answering 'free'.
      expect(await child.call({ op: 'getOrSet', key: 'slot:9', value: 'ignored' })).toBe('free')
      await local!.delete('slot:9')
      await eventually(
        async () => (await child.call({ op: 'getOrSet', key: 'slot:9', value: 'taken' })) === 'taken',
        'the child sees the delete',
      )
    } finally {
      await child.stop()
    }
  })

  it('with leases on, 1,000 concurrent getOrSet on a missing key in each of 3 processes run one loader in all', async () => {
    const namespace = freshNamespace('lease')
    const options = {
      namespace,
      redis: redis.server.url,
      l2: { timeout: 2_000 },
      lease: { ttl: '10s', wait: '10s' },
    }
    const processes: CacheProcess[] = await Promise.all([1, 2, 3].map(() => spawnCacheProcess(options)))
    const counter = `${namespace}:loader-calls`
    try {
      const answers = await Promise.all(
        processes.map((p) =>
          p.call<string[]>({
            op: 'stampede',
            key: 'hot',
            value: 'loaded',
            count: 1000,
            counter,
            loadMs: 200,
          }),
        ),
      )
      expect(answers).toEqual([['loaded'], ['loaded'], ['loaded']])
      expect(Number(await redis.admin.get(counter))).toBe(1)
    } finally {
      await Promise.all(processes.map((p) => p.stop()))
    }
  })
})
