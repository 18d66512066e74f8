import { describe, expect, it } from 'vitest'
import { createCache, type EntryOptions, type InvalidationTarget } from '../index.js'
import { eventually } from '../test-support/gates.js'
import { freshNamespace } from '../test-support/namespaces.js'
import { useTestRedis } from '../test-support/test-redis.js'

const WRITERS = 50
const redis = useTestRedis()

/**
 * 50 writers keep filling new keys (each value stamped with a global clock read when its loader
 * started) on two instances while a third instance invalidates. After the call resolves, no value
 * stamped before the call may be readable through the invalidating instance or a fresh one.
 */
async function writersDuring(target: InvalidationTarget, options: EntryOptions) {
  const namespace = freshNamespace('writers')
  const make = () => createCache({ namespace, redis: redis.server.url, l2: { timeout: 2_000 } })
  const writerCaches = [make(), make()]
  const invalidator = make()
  const all = [...writerCaches, invalidator]
  await Promise.all(all.map((cache) => cache.ready()))
  let clock = 0
  let stop = false
  const written: Array<{ key: string; stamp: number }> = []
  const writer = async (id: number) => {
    const cache = writerCaches[id % 2]!
    for (let n = 0; !stop; n++) {
      const key = `w:${id}:${n}`
      const value = await cache.getOrSet(
        key,
        async () => {
          const stamp = clock++
          written.push({ key, stamp })
          await new Promise((resolve) => setTimeout(resolve, stamp % 3))
          return stamp
        },
        options,
      )
      expect(typeof value).toBe('number')
    }
  }
  const running = Array.from({ length: WRITERS }, (_, id) => writer(id))
  try {
    await eventually(() => written.length >= 300, 'writers have filled a few hundred entries')
    const cutoff = clock
    await invalidator.invalidate(target)
    const fresh = make()
    await fresh.ready()
    all.push(fresh)
    const before = written.filter((w) => w.stamp < cutoff)
    const readable: string[] = []
    await Promise.all(
      before.map(async ({ key }) => {
        for (const reader of [invalidator, fresh]) {
          const value = await reader.get<number>(key)
          if (value !== undefined && value < cutoff) readable.push(key)
        }
      }),
    )
    expect(before.length).toBeGreaterThan(250)
    expect(readable).toEqual([])
  } finally {
    stop = true
    await Promise.all(running)
    await Promise.all(all.map((cache) => cache.close()))
  }
}

describe('50 concurrent writers: nothing written before an invalidation is readable after it resolves', () => {
  it('during a pattern invalidation', async () => {
    await writersDuring({ patterns: ['w:*'] }, {})
  })

  it('during a tag invalidation', async () => {
    await writersDuring({ tags: ['bulk'] }, { tags: ['bulk'] })
  })

  it('during a scope invalidation', async () => {
    await writersDuring({ scopes: ['tenant:acme'] }, { scope: 'tenant:acme/branch:1' })
  })
})
