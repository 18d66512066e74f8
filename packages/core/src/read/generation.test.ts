import { describe, expect, it } from 'vitest'
import { createCache } from '../index.js'
import { freshNamespace } from '../test-support/namespaces.js'
import { useTestRedis } from '../test-support/test-redis.js'

const redis = useTestRedis()

const entry = { tags: ['staff:7'], scope: 'tenant:acme/staff:7' }
const slots = async () => ['09:00', '09:30']

/** Calls per command since the last `CONFIG RESETSTAT`, without the test's own and the bus heartbeat's. */
async function commandCalls(): Promise<Record<string, number>> {
  const info = await redis.admin.info('commandstats')
  const calls: Record<string, number> = {}
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    const [, command, count] = match
    if (command === 'info' || command!.startsWith('config') || command === 'ping') continue
    calls[command!] = Number(count)
  }
  return calls
}

async function callsDuring(read: () => Promise<unknown>): Promise<Record<string, number>> {
  await redis.admin.config('RESETSTAT')
  await read()
  return commandCalls()
}

describe('the generation a read was served under', () => {
  it('is the same for every read of one fill, from the loader, L2 and L1, on every instance', async () => {
    const [a, b] = await redis.caches(2)
    const filled = await a!.getOrSetWithInfo('availability:7', slots, entry)
    expect(filled.tier).toBe('loader')
    expect(filled.value).toEqual(['09:00', '09:30'])
    expect(filled.generation).toMatch(/^[\w-]{16}$/)

    const fromL1 = await a!.getOrSetWithInfo('availability:7', slots, entry)
    const fromL2 = await b!.getOrSetWithInfo('availability:7', slots, entry)
    const fromL1Elsewhere = await b!.getOrSetWithInfo('availability:7', slots, entry)
    expect([fromL1.tier, fromL2.tier, fromL1Elsewhere.tier]).toEqual(['l1', 'l2', 'l1'])
    expect(new Set([fromL1.generation, fromL2.generation, fromL1Elsewhere.generation])).toEqual(
      new Set([filled.generation]),
    )
  })

  it('changes after an invalidation of the entry’s tag, scope or key', async () => {
    const [a, b] = await redis.caches(2)
    const generations = [(await a!.getOrSetWithInfo('availability:7', slots, entry)).generation]
    const invalidations = [
      () => a!.invalidate({ tags: ['staff:7'] }),
      () => a!.invalidate({ scopes: ['tenant:acme'] }),
      () => a!.delete('availability:7'),
    ]
    for (const invalidate of invalidations) {
      await invalidate()
      const refilled = await a!.getOrSetWithInfo('availability:7', slots, entry)
      expect(refilled.tier).toBe('loader')
      const fromL2 = await b!.getOrSetWithInfo('availability:7', slots, entry)
      expect(fromL2.tier).toBe('l2')
      expect(fromL2.generation).toBe(refilled.generation)
      generations.push(refilled.generation)
    }
    expect(new Set(generations).size).toBe(4)
  })

  it('costs no extra Redis command, on a miss or an L2 hit', async () => {
    const [a, b, c] = await redis.caches(3)
    // Loads the scripts into Redis and creates the tag and scope counters, so both reads below find the same state.
    for (const cache of [a, b, c]) await cache!.getOrSet('warm-up', slots, entry)
    // ...and the key generations of the keys read below (a delete creates the one of the key's bucket).
    await a!.delete('plain')
    await a!.delete('with-info')
    const plainMiss = await callsDuring(() => a!.getOrSet('plain', slots, entry))
    const infoMiss = await callsDuring(() => a!.getOrSetWithInfo('with-info', slots, entry))
    expect(infoMiss).toEqual(plainMiss)
    // A miss is two round trips, like GET + SET: one MGET of the entry and its counters, and the fill
    // script (whose own MGET of the fence and SET of the entry commandstats counts too).
    expect(plainMiss).toEqual({ mget: 2, evalsha: 1, set: 1 })

    const plainHit = await callsDuring(() => b!.getOrSet('plain', slots, entry))
    const infoHit = await callsDuring(() => c!.getOrSetWithInfo('plain', slots, entry))
    expect(infoHit).toEqual(plainHit)
    // A hit is one MGET checked in Node: no script.
    expect(plainHit).toEqual({ mget: 1 })
  })

  it('without Redis, is kept by L1 and changes with each fill', async () => {
    const cache = createCache({ namespace: freshNamespace('memory'), redis: false })
    const filled = await cache.getOrSetWithInfo('availability:7', slots, entry)
    const hit = await cache.getOrSetWithInfo('availability:7', slots, entry)
    expect(hit.tier).toBe('l1')
    expect(hit.generation).toBe(filled.generation)
    await cache.invalidate({ tags: ['staff:7'] })
    // Two fills in the same millisecond would share a stamp; the next millisecond tells them apart.
    const now = Date.now()
    while (Date.now() === now) await new Promise((resolve) => setImmediate(resolve))
    const refilled = await cache.getOrSetWithInfo('availability:7', slots, entry)
    expect(refilled.tier).toBe('loader')
    expect(refilled.generation).not.toBe(filled.generation)
    await cache.close()
  })
})
