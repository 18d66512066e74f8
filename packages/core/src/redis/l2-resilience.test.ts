import { type FaultProxy, type RedisServer, startFaultProxy, startRedis } from '@cachesaga/testkit'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Cache, createCache } from '../index.js'
import { eventually } from '../test-support/gates.js'
import { freshNamespace } from '../test-support/namespaces.js'

const L2_TIMEOUT_MS = 100
// A miss makes at most two Redis calls (read, fill) before the breaker opens; the rest is CPU noise on
// shared cores. Without the timeouts a call on a paused or blackholed Redis never returns, so a loose
// bound still tells a hang apart.
const CALL_BOUND_MS = 2 * L2_TIMEOUT_MS + 1_300

let server: RedisServer
let proxy: FaultProxy

beforeAll(async () => {
  server = await startRedis({ allowExternal: false })
  proxy = await startFaultProxy({ target: server })
})
afterAll(async () => {
  server.resume()
  proxy.blackhole(false)
  await proxy.close()
  await server.stop()
})

/** Runs getOrSet calls over a few hot keys and some new ones; every answer must be right and none may hang. */
async function traffic(cache: Cache, calls: number, label: string): Promise<number> {
  let slowest = 0
  for (let i = 0; i < calls; i++) {
    const key = i % 3 === 0 ? `${label}:new:${i}` : `hot:${i % 5}`
    const started = performance.now()
    const value = await cache.getOrSet(key, async () => `value of ${key}`)
    slowest = Math.max(slowest, performance.now() - started)
    expect(value).toBe(`value of ${key}`)
  }
  return slowest
}

async function storedInRedis(namespace: string, key: string): Promise<boolean> {
  const admin = new Redis(server.url, { maxRetriesPerRequest: 0 })
  admin.on('error', () => {})
  try {
    return (await admin.exists(`cs:{${namespace}}:e:${key}`)) === 1
  } finally {
    admin.disconnect()
  }
}

const faults: Array<{
  name: string
  viaProxy: boolean
  start: () => Promise<void> | void
  stop: () => Promise<void> | void
}> = [
  { name: 'killed', viaProxy: false, start: () => server.kill(), stop: () => server.restart() },
  { name: 'paused', viaProxy: false, start: () => server.pause(), stop: () => server.resume() },
  {
    name: 'blackholed',
    viaProxy: true,
    start: () => proxy.blackhole(true),
    stop: () => proxy.blackhole(false),
  },
]

describe('Redis trouble never breaks the caller', () => {
  for (const fault of faults) {
    it(`Redis ${fault.name} mid-traffic: every call answers within the L2 timeout, values are served, L2 recovers`, async () => {
      const namespace = freshNamespace(fault.name)
      const cache = createCache({
        namespace,
        redis: fault.viaProxy ? proxy.url : server.url,
        l2: { timeout: L2_TIMEOUT_MS, breaker: { failures: 3, openFor: 200 } },
        bus: { outageBound: 300 },
      })
      const circuit: string[] = []
      cache.on('circuit:open', () => circuit.push('open'))
      cache.on('circuit:close', () => circuit.push('close'))
      cache.on('error', () => {})
      try {
        await cache.ready()
        expect(await traffic(cache, 30, 'before')).toBeLessThan(CALL_BOUND_MS)

        await fault.start()
        expect(await traffic(cache, 60, 'during')).toBeLessThan(CALL_BOUND_MS)
        expect(circuit).toContain('open')
        expect(cache.stats().l2.errors).toBeGreaterThan(0)

        await fault.stop()
        let attempt = 0
        await eventually(async () => {
          const key = `recovery:${attempt++}`
          await cache.getOrSet(key, async () => 'fresh')
          return storedInRedis(namespace, key)
        }, 'fills reach Redis again')
        expect(circuit.at(-1)).toBe('close')
        expect(await traffic(cache, 30, 'after')).toBeLessThan(CALL_BOUND_MS)
      } finally {
        await fault.stop()
        await cache.close()
      }
    })
  }
})

describe('a Redis that stays paused through many timeouts', () => {
  it('is disconnected once, not once per timeout (no listeners piling up on the stuck socket)', async () => {
    const cache = createCache({ namespace: freshNamespace('stuck'), redis: server.url, l2: { timeout: 50 } })
    cache.on('error', () => {})
    const warnings: string[] = []
    const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`)
    process.on('warning', onWarning)
    try {
      await cache.ready()
      await cache.set('k', 'v')
      server.pause()
      // Invalidations are tried even with the breaker open, so each one times out against the paused server.
      for (let i = 0; i < 15; i++) await cache.invalidate({ keys: [`k${i}`] }).catch(() => undefined)
      server.resume()
      await eventually(
        async () => (await cache.getOrSet('after', () => 'fresh')) === 'fresh',
        'Redis answers again',
      )
      await new Promise((resolve) => setImmediate(resolve))
      expect(warnings.filter((w) => w.startsWith('MaxListenersExceededWarning'))).toEqual([])
    } finally {
      process.off('warning', onWarning)
      server.resume()
      await cache.close()
    }
  })
})
