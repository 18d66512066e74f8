import { describe, expect, it } from 'vitest'
import { gate } from '../test-support/gates.js'
import { useTestRedis } from '../test-support/test-redis.js'

const redis = useTestRedis()

const cache = redis.cache

describe('stampede protection in one process', () => {
  it('1,000 concurrent getOrSet on one missing key run the loader once', async () => {
    const c = await cache({})
    let calls = 0
    const loaderMayReturn = gate()
    const reads = Array.from({ length: 1000 }, () =>
      c.getOrSet('hot', async () => {
        calls++
        await loaderMayReturn.promise
        return 'value'
      }),
    )
    loaderMayReturn.open()
    const answers = await Promise.all(reads)
    expect(calls).toBe(1)
    expect(new Set(answers)).toEqual(new Set(['value']))
  })
})
