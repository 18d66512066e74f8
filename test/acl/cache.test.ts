import type { RedisConnection } from '@cachesaga/common'
import { type Cache, type CacheOptions, createCache, type InvalidationReport } from '@cachesaga/core'
import {
  eventually,
  type RedisAclUser,
  type RedisServer,
  startRedis,
  startRedisCluster,
} from '@cachesaga/testkit'
import { Cluster, Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Denial, denials, refusal, resetDenials } from './support/acl-log.js'
import { aclRules } from './support/readme-acl.js'

/** The cache users of these tests, each made of @cachesaga/core's README line: name → what fills `<namespace>`. */
const CACHE_USERS = {
  'cache-a': 'a',
  'cache-b': 'b',
  'cache-n': 'n',
  'cache-n-t1': 'n:t1',
  'cache-n-t2': 'n:t2',
} as const
type CacheUser = keyof typeof CACHE_USERS

const users: RedisAclUser[] = Object.entries(CACHE_USERS).map(([name, namespace]) => ({
  name,
  password: `${name}-secret`,
  rules: aclRules('core', 'cache-<namespace>', { namespace }),
}))

/** A Redis (single or Cluster) with the cache users, seen the same way by every test below. */
interface AclRedis {
  /** URLs of an all-rights user on every node, to read `ACL LOG`. */
  admins: string[]
  connectionFor(user: CacheUser): RedisConnection
  /** A plain ioredis client logged in as `user`. */
  clientOf(user: CacheUser): Redis | Cluster
  stop(): Promise<void>
}

async function singleServer(): Promise<AclRedis> {
  const server = await startRedis({ users })
  return {
    admins: [server.url],
    connectionFor: (user) => server.urlFor(user),
    clientOf: (user) => new Redis(server.urlFor(user), { maxRetriesPerRequest: 1 }),
    stop: () => server.stop(),
  }
}

async function cluster(): Promise<AclRedis> {
  const redis = await startRedisCluster({ users })
  return {
    admins: redis.servers.map((server) => server.url),
    connectionFor: (user) => redis.connectionFor(user),
    clientOf: (user) => {
      const { cluster: nodes, options } = redis.connectionFor(user)
      return new Cluster(nodes, {
        ...options,
        redisOptions: { ...options.redisOptions, maxRetriesPerRequest: 1 },
      })
    },
    stop: () => redis.stop(),
  }
}

describe.each([
  { where: 'a single Redis', start: singleServer },
  { where: 'a 3-master Redis Cluster', start: cluster },
])('a cache on its README user, on $where', ({ start }) => {
  let redis: AclRedis
  const opened: Cache[] = []
  /** Every `error` event of every cache opened by `open`, as `operation: message`. */
  const errors = new Map<Cache, string[]>()

  function open(user: CacheUser, options: Partial<CacheOptions> & Pick<CacheOptions, 'namespace'>): Cache {
    const cache = createCache({
      redis: redis.connectionFor(user),
      snapshotEvery: '200ms',
      lease: { ttl: '2s', wait: '1s' },
      ...options,
    })
    const seen: string[] = []
    errors.set(cache, seen)
    cache.on('error', ({ operation, error }) => seen.push(`${operation}: ${(error as Error).message}`))
    opened.push(cache)
    return cache
  }

  beforeAll(async () => {
    redis = await start()
  })

  afterAll(async () => {
    await Promise.all(opened.map((cache) => cache.close()))
    await redis?.stop()
  })

  it('does its everyday work, instance to instance, and Redis refuses it nothing', async () => {
    await resetDenials(redis.admins)
    // A short outage bound: the bus's heartbeat (PING) runs every 100 ms during the test.
    const one = open('cache-a', { namespace: 'a', bus: { outageBound: '200ms' } })
    const two = open('cache-a', { namespace: 'a', bus: { outageBound: '200ms' } })
    await Promise.all([one.ready(), two.ready()])

    const staff7 = { tags: ['staff:7'], scope: 'clinic/7' }
    expect(await one.getOrSet('slots:7', () => ['09:00', '09:30'], staff7)).toEqual(['09:00', '09:30'])
    expect(await two.get('slots:7', staff7)).toEqual(['09:00', '09:30']) // from Redis
    await one.set('service:1', { minutes: 30 })
    expect(await two.get('service:1')).toEqual({ minutes: 30 })
    const loaded = await one.getMany(['m:1', 'm:2'], ({ keys }) => new Map(keys.map((key) => [key, key])))
    expect(loaded).toEqual(['m:1', 'm:2'])
    const double = one.wrap(async (n: number) => n * 2, { name: 'double' })
    expect(await double(21)).toBe(42)

    // One invalidation of every kind, seen by the other instance (bus) and in Redis.
    await one.invalidate({
      keys: ['service:1'],
      tags: ['staff:7'],
      scopes: ['clinic'],
      queries: [{ name: 'double' }],
      patterns: ['m:*'],
    })
    // Redis answers at once; the other instance's L1 drops its copies when the bus message arrives.
    await eventually('the other instance to drop every target', async () => {
      expect(await two.get('service:1')).toBeUndefined()
      expect(await two.get('slots:7', staff7)).toBeUndefined()
      expect(await two.getMany(['m:1', 'm:2'], () => new Map())).toEqual([undefined, undefined])
      return true
    })

    // What operators and maintenance jobs do.
    expect((await one.health()).redis?.usedMemoryBytes).toBeGreaterThan(0)
    await eventually('the other instance in instances()', async () => (await one.instances()).length === 1)
    await one.set('price:1', 10)
    await eventually('price:1 in the other L1', async () => (await two.get('price:1')) === 10)
    one.checker.register({ match: 'price:*', load: () => 11 }) // the source moved on: price:1 is stale
    const check = await one.checker.check({ level: 'medium', heal: true, sample: 20 })
    expect(check.inconsistencies.map(({ key, tier }) => `${key} ${tier}`).sort()).toEqual([
      'price:1 l1',
      'price:1 l2',
    ])
    await eventually(
      'the healed key dropped everywhere',
      async () => (await two.get('price:1')) === undefined,
    )
    one.warmer.register('services', {
      keys: ['w:1', 'w:2'],
      loader: (key) => key,
      options: { ttl: '1s' },
      refresh: 'w:*',
    })
    expect((await one.warmer.warm())[0]).toMatchObject({ loaded: 2 })
    // Due 10 ms after the warm; reloaded and written, or rejected by a fence that moved meanwhile, never failed.
    await new Promise((resolve) => setTimeout(resolve, 20))
    const refreshed = await one.warmer.refresh({ fraction: 0.01 })
    expect(refreshed).toMatchObject({ scanned: 2, failed: 0 })
    expect(refreshed.refreshed + refreshed.rejected).toBe(2)
    const cleared = await one.clear({ token: await one.requestClearToken() })
    expect(cleared.removed).toBeGreaterThan(0)
    await eventually('the clear seen everywhere', async () => (await two.get('w:1')) === undefined)

    // Two more heartbeats and snapshots, then nothing may have been refused.
    await new Promise((resolve) => setTimeout(resolve, 250))
    expect(errors.get(one)).toEqual([])
    expect(errors.get(two)).toEqual([])
    expect(await denials(redis.admins)).toEqual([])
  })

  const intrusions = [
    { what: "another namespace's keys", victim: { namespace: 'b' }, owner: 'cache-b', intruder: 'cache-a' },
    {
      what: "another tenant's keys",
      victim: { namespace: 'n', tenant: 't2' },
      owner: 'cache-n-t2',
      intruder: 'cache-n-t1',
    },
    {
      what: "its namespace's own keys, with a tenant's user",
      victim: { namespace: 'n' },
      owner: 'cache-n',
      intruder: 'cache-n-t1',
    },
  ] as const

  it.each(intrusions)('cannot read, fill or invalidate $what', async ({ victim, owner, intruder }) => {
    const prefix =
      'tenant' in victim ? `cs:{${victim.namespace}:${victim.tenant}}` : `cs:{${victim.namespace}}`
    const theirs = open(owner, victim)
    await theirs.ready()
    await theirs.getOrSet('booking:1', () => 'theirs', { tags: ['staff:1'] })
    await resetDenials(redis.admins)

    // The same namespace (and tenant) as the victim, but on the intruder's user.
    const forged = open(intruder, { ...victim, l2: { breaker: { failures: 1_000 } } })
    try {
      const notReady = await forged.ready({ timeout: '300ms' }).catch((error: unknown) => error)
      expect(notReady).toMatchObject({
        code: 'CS_ERR_REDIS_UNREACHABLE',
        message: expect.stringContaining('NOPERM'),
      })
      expect(await forged.get('booking:1')).toBeUndefined()
      expect(await forged.getOrSet('booking:1', () => 'forged', { tags: ['staff:1'] })).toBe('forged')
      const invalidation = await forged
        .invalidate({ keys: ['booking:1'], tags: ['staff:1'], patterns: ['booking:*'] })
        .catch((error: unknown) => error)
      expect(invalidation).toMatchObject({ code: 'CS_ERR_INVALIDATION_FAILED' })
      const report = (invalidation as { report: InvalidationReport }).report
      expect(report.errors.map(({ kind }) => kind).sort()).toEqual(['keys', 'patterns', 'tags'])
      expect(report.errors.every(({ error }) => error.message.startsWith('NOPERM'))).toBe(true)
      await expect(forged.requestClearToken()).rejects.toThrow(/^NOPERM/)
    } finally {
      await forged.close()
    }

    // Every failure was Redis saying no, surfaced as the cache's error events...
    const failed = errors.get(forged)!
    expect(failed.some((line) => line.startsWith('l2.read: NOPERM'))).toBe(true)
    expect(failed.some((line) => line.startsWith('bus.subscribe: NOPERM'))).toBe(true)
    expect(failed.filter((line) => !line.includes('NOPERM'))).toEqual([])
    // ...all of them about the victim's keys and channels, refused to the intruder.
    const refused = await denials(redis.admins)
    expect(refused.length).toBeGreaterThan(0)
    expect(refused.filter((denial: Denial) => denial.user !== intruder)).toEqual([])
    expect(
      refused.filter(({ reason, object }) => !object.startsWith(prefix) && reason !== 'command'),
    ).toEqual([])
    expect(refused.some(({ reason }) => reason === 'key')).toBe(true)
    expect(refused.some(({ reason }) => reason === 'channel')).toBe(true)

    // The victim's entry and its tag are as they were: a fresh instance still reads it from Redis.
    const fresh = open(owner, victim)
    await fresh.ready()
    expect(await fresh.get('booking:1', { tags: ['staff:1'] })).toBe('theirs')
  })

  it('is refused every command outside its line', async () => {
    const client = redis.clientOf('cache-a')
    try {
      const outside: Array<[string, (c: Redis | Cluster) => Promise<unknown>]> = [
        ['FLUSHALL', (c) => c.flushall()],
        ['FLUSHDB', (c) => c.flushdb()],
        ['KEYS', (c) => c.keys('*')],
        ['CONFIG SET', (c) => c.config('SET', 'maxmemory-policy', 'allkeys-lru')],
        ['CONFIG GET', (c) => c.config('GET', 'requirepass')],
        ['SAVE', (c) => c.call('SAVE')],
        ['RENAME, even of its own keys', (c) => c.rename('cs:{a}:e:w:1', 'cs:{a}:e:w:2')],
        ['SCRIPT FLUSH', (c) => c.call('SCRIPT', 'FLUSH')],
        ['ACL LIST', (c) => c.call('ACL', 'LIST')],
        ['CLIENT KILL', (c) => c.call('CLIENT', 'KILL', 'TYPE', 'normal')],
        ["another namespace's entry", (c) => c.get('cs:{b}:e:booking:1')],
        ['a key outside every namespace', (c) => c.set('bull:booking:id', '1')],
        ["another namespace's bus", (c) => c.publish('cs:{b}:bus', '{}')],
      ]
      for (const [what, call] of outside) {
        expect(`${what}: ${await refusal(call(client))}`).toMatch(new RegExp(`^${what}: NOPERM`))
      }
    } finally {
      client.disconnect()
    }
  })
})

describe('a cache on its README user, on a single Redis that restarts empty', () => {
  let server: RedisServer
  const opened: Cache[] = []

  beforeAll(async () => {
    server = await startRedis({ users })
  })

  afterAll(async () => {
    await Promise.all(opened.map((cache) => cache.close()))
    await server?.stop()
  })

  it('keeps working, sending its scripts again, and Redis refuses it nothing', async () => {
    const open = () => {
      const cache = createCache({
        namespace: 'a',
        redis: server.urlFor('cache-a'),
        bus: { outageBound: '300ms' },
      })
      opened.push(cache)
      return cache
    }
    const cache = open()
    const other = open()
    const failures: string[] = []
    cache.on('error', ({ operation, error }) => failures.push(`${operation}: ${(error as Error).message}`))
    await Promise.all([cache.ready(), other.ready()])
    const restarts: string[] = []
    cache.on('redis:restart', ({ reason }) => restarts.push(reason))
    await cache.getOrSet('before', () => 1)

    await server.restart({ from: 'empty' })
    await eventually('the restart seen', () => restarts.length > 0)
    // The fill script is unknown to the new server: EVALSHA answers NOSCRIPT, and EVAL (granted) loads it.
    await eventually('a fill on the new server', async () => {
      await cache.getOrSet('after', () => 2)
      return (await other.get('after')) === 2
    })
    expect(failures.filter((line) => line.includes('NOPERM'))).toEqual([])
    expect(await denials([server.url])).toEqual([])
  })
})
