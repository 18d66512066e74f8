import { type RedisCluster, type RedisServer, startRedisCluster } from '@cachesaga/testkit'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { type Cache, createCache, type RedisRestart } from '../index.js'
import { freshNamespace } from '../test-support/namespaces.js'

let cluster: RedisCluster

beforeAll(async () => {
  cluster = await startRedisCluster({ replicas: 1 })
}, 90_000)
afterAll(async () => {
  await cluster.stop()
})

const L2_TIMEOUT_MS = 200
const SERVER_CHECK_EVERY_MS = 300
/** The window the README states: one server check period, plus that check's own round trip. */
const WINDOW_MS = SERVER_CHECK_EVERY_MS + L2_TIMEOUT_MS
/** Timers on a machine shared with other test runs fire late. */
const SLACK_MS = 500
const ITEMS = 6
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

interface Read {
  instance: number
  item: number
  value: number
  start: number
  tier: string
}

it('a forced failover to a replica that missed invalidations leaves no stale read past the stated window', async () => {
  const namespace = freshNamespace('failover')
  const master = await cluster.masterOf(`cs:{${namespace}}:e:x`)
  const replica = (await cluster.topology()).masters.find(({ node }) => node === master)!.replicas[0]!
  const truth = Array.from({ length: ITEMS }, () => 1)
  const resolved: Array<{ item: number; version: number; at: number }> = []
  const reads: Read[] = []
  const restarts: RedisRestart[][] = [[], []]
  const caches: Cache[] = restarts.map((seen) => {
    const cache = createCache({
      namespace,
      redis: cluster.connectionFor(),
      l2: { timeout: L2_TIMEOUT_MS, serverCheckEvery: SERVER_CHECK_EVERY_MS },
      // Copies leave L1 soon, so reads after the failover go to the promoted replica.
      l1: { maxAge: 250 },
    })
    cache.on('error', () => {})
    cache.on('redis:restart', (event) => seen.push(event))
    return cache
  })
  let running = true
  let writing = true
  const reader = async (instance: number) => {
    while (running) {
      const item = Math.floor(Math.random() * ITEMS)
      const start = Date.now()
      const served = await caches[instance]!.getOrSetWithInfo(`item:${item}`, async () => truth[item]!, {
        tags: [`item:${item}`],
      })
      reads.push({ instance, item, value: served.value, start, tier: served.tier })
      await sleep(2)
    }
  }
  const writer = async () => {
    for (let n = 0; writing; n++) {
      await sleep(20)
      const item = n % ITEMS
      const version = ++truth[item]!
      const target = n % 2 === 0 ? { keys: [`item:${item}`] } : { tags: [`item:${item}`] }
      // Like an application that must not leave a change un-invalidated: retry until it is done.
      while (writing) {
        const done = await caches[n % 2]!.invalidate(target).then(
          () => true,
          () => false,
        )
        if (done) {
          resolved.push({ item, version, at: Date.now() })
          break
        }
        await sleep(50)
      }
    }
  }
  try {
    await Promise.all(caches.map((cache) => cache.ready()))
    const traffic = [reader(0), reader(1), reader(0), reader(1), writer()]
    await sleep(500)
    // The replica stops hearing from its master: what the master acknowledges now, the replica never gets
    // (paused first, so that it cannot reconnect; the link is cut, so that nothing waits in its socket).
    replica.pause()
    await cutReplicationLink(master)
    await sleep(700)
    // The last invalidations die with the master. Nothing invalidates these items again, so what the replica
    // holds of them would be served until its TTL if the failover went unnoticed.
    writing = false
    const tagCounters = Array.from({ length: ITEMS }, (_, item) => `cs:{${namespace}}:g:t:item:${item}`)
    const onTheMaster = await countersOn(master, tagCounters)
    await master.kill()
    replica.resume()
    const failoverStarted = Date.now()
    await cluster.failover(master)
    // The promoted replica really is behind: invalidations the master acknowledged are gone.
    expect(await countersOn(replica, tagCounters)).not.toEqual(onTheMaster)
    await sleep(WINDOW_MS + 2 * SLACK_MS + 1_000)
    running = false
    await Promise.all(traffic)

    for (const seen of restarts) expect(seen[0]).toMatchObject({ reason: 'run-id' })
    const late: Read[] = []
    for (const instance of [0, 1]) {
      // From when the promoted replica first answered this instance, one check period at most.
      const reached = reads.find(
        (read) => read.instance === instance && read.start >= failoverStarted && read.tier === 'l2',
      )
      const from = (reached?.start ?? failoverStarted) + WINDOW_MS + SLACK_MS
      for (const read of reads) {
        if (read.instance !== instance || read.start < from) continue
        // Stale: an invalidation of a newer version had resolved (by more than a bus delivery) before it began.
        if (resolved.some((r) => r.item === read.item && r.version > read.value && r.at < read.start - 100))
          late.push(read)
      }
    }
    expect(
      reads.filter((read) => read.start > failoverStarted + WINDOW_MS + SLACK_MS).length,
    ).toBeGreaterThan(0)
    expect(late).toEqual([])
  } finally {
    running = false
    writing = false
    await Promise.all(caches.map((cache) => cache.close()))
    if (replica !== master) await restartAsReplica(master)
  }
}, 60_000)

async function countersOn(node: RedisServer, keys: string[]): Promise<Array<string | null>> {
  const admin = new Redis(node.url)
  try {
    return await admin.mget(keys)
  } finally {
    admin.disconnect()
  }
}

async function cutReplicationLink(master: RedisServer): Promise<void> {
  const admin = new Redis(master.url)
  try {
    await admin.call('CLIENT', 'KILL', 'TYPE', 'replica')
  } finally {
    admin.disconnect()
  }
}

/** The killed master comes back as a replica of the node that replaced it; the cluster settles. */
async function restartAsReplica(node: RedisServer): Promise<void> {
  await node.restart()
  await cluster.waitUntilConsistent()
}
