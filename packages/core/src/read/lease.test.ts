import { describe, expect, it } from 'vitest'
import { redisProtocolOf } from '../test-support/faults.js'
import { eventually, gate } from '../test-support/gates.js'
import { useTestRedis } from '../test-support/test-redis.js'

const redis = useTestRedis()
const lease = { ttl: '10s', wait: '10s' } as const

describe('the cross-process load lease', () => {
  it('a reader that takes the lease just after its holder filled and released it serves the fill instead of loading again', async () => {
    const [holder, late] = await redis.caches(2, { lease })
    const lateReachedLease = gate()
    const lateMayAcquire = gate()
    const l2 = redisProtocolOf(late!)
    const acquire = l2.acquireLease.bind(l2)
    l2.acquireLease = async (...args: Parameters<typeof acquire>) => {
      lateReachedLease.open()
      await lateMayAcquire.promise
      return acquire(...args)
    }
    const loads: string[] = []
    // `late` missed in Redis and is about to ask for the lease...
    const lateRead = late!.getOrSetWithInfo('slot:9', () => {
      loads.push('late')
      return 'loaded by late'
    })
    await lateReachedLease.promise
    // ...while `holder` takes it, loads, fills and lets go.
    expect(
      await holder!.getOrSet('slot:9', () => {
        loads.push('holder')
        return 'loaded by holder'
      }),
    ).toBe('loaded by holder')
    const leaseKey = `cs:{${redis.namespace}}:l:slot:9`
    await eventually(async () => (await redis.admin.exists(leaseKey)) === 0, 'the holder released its lease')
    lateMayAcquire.open()
    const answer = await lateRead
    expect(loads).toEqual(['holder'])
    expect(answer.value).toBe('loaded by holder')
    expect(answer.tier).toBe('l2')
    await eventually(
      async () => (await redis.admin.exists(leaseKey)) === 0,
      'the late reader let go of the lease too',
    )
  })
})
