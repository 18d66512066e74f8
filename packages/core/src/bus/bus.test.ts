import { type FaultProxy, startFaultProxy } from '@cachesaga/testkit'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type Cache, createCache } from '../index.js'
import { eventually } from '../test-support/gates.js'
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
afterEach(() => {
  proxy.blackhole(false)
})

async function pair() {
  const [sender, receiver] = (await redis.caches(2)) as [Cache, Cache]
  return { namespace: redis.namespace, sender, receiver }
}

/** Which tier answered the next getOrSet of `key` on `cache` ('loader' when neither did). */
async function answeredBy(cache: Cache, key: string): Promise<string> {
  let tier = 'loader'
  const onHit = (event: { key: string; tier: string }) => {
    if (event.key === key) tier = event.tier
  }
  cache.on('hit', onHit)
  await cache.getOrSet(key, () => 'loaded')
  cache.off('hit', onHit)
  return tier
}

describe('cross-instance L1 invalidation', () => {
  it('an invalidation on one instance drops the L1 copy on the other; its own message is ignored', async () => {
    const { sender, receiver } = await pair()
    await receiver.getOrSet('k', () => 'v1', { tags: ['staff:7'] })
    expect(await answeredBy(receiver, 'k')).toBe('l1')
    const delivered = new Promise<void>((resolve) => receiver.on('bus:message', () => resolve()))
    await sender.invalidate({ tags: ['staff:7'] })
    await delivered
    expect(await answeredBy(receiver, 'k')).toBe('loader')
    expect(sender.stats().bus.received).toBe(0)
    expect(sender.stats().bus.published).toBe(1)
  })

  it('a gap in a sender sequence drops the whole L1', async () => {
    const { namespace, receiver } = await pair()
    await receiver.getOrSet('k', () => 'v1')
    const dropped = new Promise<string>((resolve) =>
      receiver.on('l1:dropped', (event) => resolve(event.reason)),
    )
    const channel = `cs:{${namespace}}:bus`
    await redis.admin.publish(channel, JSON.stringify({ v: 1, from: 'other', seq: 1, keys: ['unrelated'] }))
    await redis.admin.publish(channel, JSON.stringify({ v: 1, from: 'other', seq: 3, keys: ['unrelated'] }))
    expect(await dropped).toBe('gap')
    expect(await answeredBy(receiver, 'k')).toBe('l2')
    expect(receiver.stats().bus.gaps).toBe(1)
  })

  it('a message of an unknown format version drops the whole L1', async () => {
    const { namespace, receiver } = await pair()
    await receiver.getOrSet('k', () => 'v1')
    const dropped = new Promise<string>((resolve) =>
      receiver.on('l1:dropped', (event) => resolve(event.reason)),
    )
    await redis.admin.publish(`cs:{${namespace}}:bus`, JSON.stringify({ v: 2, from: 'future', seq: 1 }))
    expect(await dropped).toBe('unreadable-message')
    expect(await answeredBy(receiver, 'k')).toBe('l2')
  })

  it('after a subscriber reconnect no L1 entry older than the reconnect is served', async () => {
    const { receiver } = await pair()
    await receiver.getOrSet('k', () => 'v1')
    expect(await answeredBy(receiver, 'k')).toBe('l1')
    const dropped = new Promise<string>((resolve) =>
      receiver.on('l1:dropped', (event) => resolve(event.reason)),
    )
    await redis.server.killPubSubClients()
    expect(await dropped).toBe('reconnect')
    await receiver.ready()
    await eventually(
      async () => (await answeredBy(receiver, 'k')) === 'l2',
      'served from L2 after the reconnect',
    )
  })

  it('a bus outage longer than the bound suspends L1 until the subscriber is back', async () => {
    const namespace = freshNamespace('outage')
    const receiver = redis.track(
      createCache({ namespace, redis: proxy.url, l2: { timeout: 100 }, bus: { outageBound: 200 } }),
    )
    receiver.on('error', () => {})
    await receiver.ready()
    await receiver.getOrSet('k', () => 'v1')
    expect(await answeredBy(receiver, 'k')).toBe('l1')
    const reasons: string[] = []
    receiver.on('l1:dropped', (event) => reasons.push(event.reason))
    proxy.blackhole(true)
    await eventually(() => reasons.includes('outage'), 'L1 dropped for the outage')
    expect(await answeredBy(receiver, 'k')).toBe('loader')
    proxy.blackhole(false)
    await eventually(async () => (await answeredBy(receiver, 'k')) === 'l1', 'L1 serves again after recovery')
    expect(reasons).toContain('reconnect')
  })

  it('a publish that fails waits in the retry queue, is reported as not published once the call runs out of time, and is delivered later', async () => {
    const user = `limited-${process.pid}`
    await redis.admin.call('ACL', 'SETUSER', user, 'on', '>secret', '~*', '&*', '+@all', '-publish')
    const namespace = freshNamespace('retry')
    const limitedUrl = `redis://${user}:secret@127.0.0.1:${redis.server.port}`
    const sender = redis.track(createCache({ namespace, redis: limitedUrl, invalidate: { timeout: 300 } }))
    const receiver = redis.track(createCache({ namespace, redis: redis.server.url, l1: { maxAge: 300 } }))
    sender.on('error', () => {})
    await Promise.all([sender.ready(), receiver.ready()])
    await receiver.getOrSet('k', () => 'v1')
    const report = await sender.invalidate({ keys: ['k'] })
    expect(report.ok).toBe(true)
    expect(report.published).toBe(false)
    expect(sender.stats().bus.queued).toBe(1)
    expect(sender.stats().bus.published).toBe(0)
    // The lost message is bounded by l1.maxAge: the receiver stops serving its copy on its own.
    await eventually(async () => (await answeredBy(receiver, 'k')) === 'loader', 'L1 copy expired by maxAge')
    const delivered = new Promise<void>((resolve) => receiver.on('bus:message', () => resolve()))
    await redis.admin.call('ACL', 'SETUSER', user, '+publish')
    await delivered
    expect(sender.stats().bus.queued).toBe(0)
    expect(sender.stats().bus.published).toBe(1)
  })
})
