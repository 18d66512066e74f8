import { type FaultProxy, startFaultProxy } from '@cachesaga/testkit'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createCache } from '../index.js'
import { partsOf } from '../test-support/faults.js'
import { freshNamespace } from '../test-support/namespaces.js'
import { useTestRedis } from '../test-support/test-redis.js'

const redis = useTestRedis({ allowExternal: false })
let proxy: FaultProxy

beforeAll(async () => {
  proxy = await startFaultProxy({ target: redis.server })
})
afterAll(async () => {
  await proxy.close()
})

const OUTAGE_BOUND_MS = 1_000

it('a partitioned instance answers from L1 until bus.outageBound after the last thing it heard, not after it noticed', async () => {
  const namespace = freshNamespace('partition')
  // Every connection of `partitioned` goes through the proxy; `writer` reaches Redis directly.
  const partitioned = redis.track(
    createCache({ namespace, redis: proxy.url, l2: { timeout: 100 }, bus: { outageBound: OUTAGE_BOUND_MS } }),
  )
  const writer = redis.track(createCache({ namespace, redis: redis.server.url }))
  partitioned.on('error', () => {})
  await Promise.all([partitioned.ready(), writer.ready()])
  let version = 1
  const load = async () => version
  expect(await partitioned.getOrSet('slot', load)).toBe(1)

  const bus = partsOf(partitioned).bus!
  let lastHeard = bus.lastSignOfLife!
  const answers: Array<{ at: number; tier: string; value: number }> = []
  let reading = true
  const reader = (async () => {
    while (reading) {
      lastHeard = bus.lastSignOfLife ?? lastHeard
      const served = await partitioned.getOrSetWithInfo('slot', load)
      answers.push({ at: Date.now(), tier: served.tier, value: served.value })
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
  })()
  try {
    // Silent for a while first, so that the loss is noticed well after the last sign of life.
    await new Promise((resolve) => setTimeout(resolve, OUTAGE_BOUND_MS * 0.4))
    proxy.blackhole(true)
    version = 2
    expect((await writer.invalidate({ keys: ['slot'] })).ok).toBe(true)
    await new Promise((resolve) => setTimeout(resolve, OUTAGE_BOUND_MS * 1.5))
  } finally {
    reading = false
    await reader
    proxy.blackhole(false)
    proxy.resetAll()
  }

  const fromL1 = answers.filter((answer) => answer.tier === 'l1')
  const staleFromL1 = fromL1.filter((answer) => answer.value === 1 && answer.at > lastHeard)
  // It did answer the old value from L1 while it could not hear the invalidation...
  expect(staleFromL1.length).toBeGreaterThan(0)
  // ...and its last L1 answer came before the bound, counted from the last thing it heard.
  expect(fromL1.at(-1)!.at).toBeLessThan(lastHeard + OUTAGE_BOUND_MS)
  // After that it answered from the loader (Redis unreachable), with the new value.
  expect(answers.at(-1)).toMatchObject({ tier: 'loader', value: 2 })
})
