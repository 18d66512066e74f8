import { describe, expect, it } from 'vitest'
import { redisProtocolOf } from '../test-support/faults.js'
import { useTestRedis } from '../test-support/test-redis.js'

const redis = useTestRedis()

async function cacheWith(entries: number) {
  const cache = await redis.cache()
  for (let i = 0; i < entries; i++) await cache.set(`slot:${i}`, i)
  return redisProtocolOf(cache)
}

describe('sampling entries for the consistency checker', () => {
  it('returns every entry, each once, when there are fewer than the limit', async () => {
    const l2 = await cacheWith(30)
    for (let run = 0; run < 5; run++) {
      const sample = await l2.sampleEntries(100)
      expect(sample).toHaveLength(30)
      expect(new Set(sample)).toEqual(new Set(Array.from({ length: 30 }, (_, i) => `slot:${i}`)))
    }
  })

  it('fills the limit with distinct entries, and different runs look at different entries', async () => {
    const l2 = await cacheWith(600)
    const samples: string[] = []
    for (let run = 0; run < 5; run++) {
      const sample = await l2.sampleEntries(20)
      expect(sample).toHaveLength(20)
      expect(new Set(sample).size).toBe(20)
      for (const key of sample) expect(key).toMatch(/^slot:\d+$/)
      samples.push([...sample].sort().join(','))
    }
    // Each run starts at a random cursor: five runs picking the same 20 of 600 entries is about a 1 in 10^11 event.
    expect(new Set(samples).size).toBeGreaterThan(1)
  })
})
