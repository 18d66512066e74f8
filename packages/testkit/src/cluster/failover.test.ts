import { Cluster, Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventually, type RedisCluster, type RedisServer, startRedisCluster } from '../index.js'

const PASSWORD = 'cluster secret'

describe('startRedisCluster({ replicas: 1 })', () => {
  let cluster: RedisCluster
  let client: Cluster

  beforeAll(async () => {
    cluster = await startRedisCluster({
      replicas: 1,
      persistence: 'aof',
      password: PASSWORD,
      users: [
        {
          name: 'reader',
          password: 'r',
          rules: ['~booking:*', '+@read', '+@connection', '+cluster', '+info'],
        },
      ],
    })
    const { cluster: seeds, options } = cluster.connectionFor()
    client = new Cluster(seeds, options)
  })
  afterAll(async () => {
    client?.disconnect()
    await cluster?.stop()
  })

  /** Reads `key` straight from `node`, without following redirections, as the harness's default user. */
  async function readOn(node: RedisServer, key: string): Promise<string | null> {
    const direct = new Redis(node.url, { maxRetriesPerRequest: 0 })
    try {
      // READONLY lets a replica answer for its master's slots instead of redirecting.
      await direct.call('READONLY')
      return await direct.get(key)
    } finally {
      direct.disconnect()
    }
  }

  it('runs three masters, each with one replica, that together serve every slot', async () => {
    const { masters } = await cluster.topology()
    expect(masters).toHaveLength(3)
    expect(masters.flatMap(({ slots }) => slots).reduce((sum, [from, to]) => sum + to - from + 1, 0)).toBe(
      16_384,
    )
    for (const { replicas } of masters) expect(replicas).toHaveLength(1)
    const everyNode = masters.flatMap(({ node, replicas }) => [node, ...replicas])
    expect(new Set(everyNode)).toEqual(new Set(cluster.servers))
  })

  it('gives every node the persistence and the users of the options', async () => {
    for (const node of cluster.servers) {
      const direct = new Redis(node.url, { maxRetriesPerRequest: 0 })
      try {
        expect(await direct.config('GET', 'appendonly')).toEqual(['appendonly', 'yes'])
        expect(await direct.call('ACL', 'USERS')).toEqual(expect.arrayContaining(['default', 'reader']))
      } finally {
        direct.disconnect()
      }
    }
    const anonymous = new Redis(cluster.nodes[0]!.port, { maxRetriesPerRequest: 0 })
    anonymous.on('error', () => {})
    try {
      await expect(anonymous.get('booking:1')).rejects.toThrow(/NOAUTH/)
    } finally {
      anonymous.disconnect()
    }
  })

  /**
   * Waits until the replicas of the key's master hold `value`. Replication is asynchronous: a master killed
   * right after acknowledging a write may take it down with it, so a test that kills one first waits here.
   */
  async function replicated(key: string, value: string): Promise<void> {
    const master = await cluster.masterOf(key)
    const { replicas } = (await cluster.topology()).masters.find(({ node }) => node === master)!
    for (const replica of replicas) {
      await eventually(
        `${key} on the replica on port ${replica.port}`,
        async () => (await readOn(replica, key)) === value,
        { timeoutMs: 5_000 },
      )
    }
  }

  it('promotes a replica with a graceful failover, losing no acknowledged write', async () => {
    await client.set('booking:graceful', 'v1')
    const master = await cluster.masterOf('booking:graceful')
    const replica = (await cluster.topology()).masters.find(({ node }) => node === master)!.replicas[0]!

    const promoted = await cluster.failover(master)

    expect(promoted).toBe(replica)
    expect(await cluster.masterOf('booking:graceful')).toBe(replica)
    const entry = (await cluster.topology()).masters.find(({ node }) => node === replica)!
    expect(entry.replicas).toEqual([master])
    expect(await readOn(replica, 'booking:graceful')).toBe('v1')
    expect(await client.get('booking:graceful')).toBe('v1')
    await client.set('booking:graceful', 'v2')
    expect(await readOn(replica, 'booking:graceful')).toBe('v2')
  })

  it('forces a failover of a killed master, and takes the master back as a replica when it restarts', async () => {
    await client.set('booking:killed', 'before')
    await replicated('booking:killed', 'before')
    const master = await cluster.masterOf('booking:killed')
    await master.kill()

    const promoted = await cluster.failover(master)

    expect(promoted).not.toBe(master)
    expect(await cluster.masterOf('booking:killed')).toBe(promoted)
    expect(await client.get('booking:killed')).toBe('before')

    await master.restart()
    const { masters } = await cluster.waitUntilConsistent()
    expect(masters.find(({ node }) => node === promoted)?.replicas).toEqual([master])
    expect(masters.map(({ node }) => node)).not.toContain(master)
  })

  it('takes over from a paused master without a vote, and the master steps down once resumed', async () => {
    const master = await cluster.masterOf('booking:paused')
    master.pause()
    try {
      const promoted = await cluster.failover(master, { mode: 'takeover' })
      expect(await cluster.masterOf('booking:paused')).toBe(promoted)
    } finally {
      master.resume()
    }
    const { masters } = await cluster.waitUntilConsistent()
    expect(masters.map(({ node }) => node)).not.toContain(master)
  })

  it('waits, after a master is killed, for its replica to replace it without being asked', async () => {
    await client.set('booking:unattended', 'kept')
    await replicated('booking:unattended', 'kept')
    const master = await cluster.masterOf('booking:unattended')
    await master.kill()
    try {
      const { masters } = await cluster.waitUntilConsistent()

      expect(masters.map(({ node }) => node)).not.toContain(master)
      expect(await client.get('booking:unattended')).toBe('kept')
    } finally {
      // The tests after this one expect every node up.
      await master.restart()
      await cluster.waitUntilConsistent()
    }
  })

  it('fails the same pair over and back and over again, waiting out what Redis remembers of an election', async () => {
    await client.set('booking:back-and-forth', 'kept')
    const first = await cluster.masterOf('booking:back-and-forth')
    const second = await cluster.failover(first)
    expect(await cluster.failover(second)).toBe(first)
    // `second` won an election moments ago; asked again at once, Redis 7.0 would promote it with a stale epoch.
    expect(await cluster.failover(first)).toBe(second)
    expect(await cluster.masterOf('booking:back-and-forth')).toBe(second)
    expect(await client.get('booking:back-and-forth')).toBe('kept')
  })

  it('refuses to fail over a node that serves no slots', async () => {
    const { masters } = await cluster.topology()
    const replica = masters[0]!.replicas[0]!
    await expect(cluster.failover(replica)).rejects.toMatchObject({ code: 'TESTKIT_ERR_INVALID_INPUT' })
  })

  it('lets a replica restarted from empty keep its place and copy its master again', async () => {
    await client.set('booking:resync', 'copied')
    const master = await cluster.masterOf('booking:resync')
    const replica = (await cluster.topology()).masters.find(({ node }) => node === master)!.replicas[0]!

    await replica.restart({ from: 'empty' })

    const { masters } = await cluster.waitUntilConsistent()
    expect(masters.find(({ node }) => node === master)?.replicas).toEqual([replica])
    expect(await readOn(replica, 'booking:resync')).toBe('copied')
  })

  it('connects as a named user through connectionFor, with only that user rights', async () => {
    await client.set('booking:acl', 'visible')
    await client.set('secret:acl', 'hidden')
    const { cluster: seeds, options } = cluster.connectionFor('reader')
    const reader = new Cluster(seeds, options)
    try {
      expect(await reader.get('booking:acl')).toBe('visible')
      await expect(reader.get('secret:acl')).rejects.toThrow(/NOPERM/)
      await expect(reader.set('booking:acl', 'changed')).rejects.toThrow(/NOPERM/)
    } finally {
      reader.disconnect()
    }
  })

  it('creates a user on every node, and on a node that is down when it restarts', async () => {
    const replica = (await cluster.topology()).masters[0]!.replicas[0]!
    await replica.kill()
    await cluster.createUser({
      name: 'late',
      password: 'l',
      rules: ['+@connection', '+info', '+cluster', '+@read', '~*'],
    })
    await replica.restart()
    await cluster.waitUntilConsistent()
    for (const node of cluster.servers) {
      const late = new Redis(node.urlFor('late'), { maxRetriesPerRequest: 0 })
      try {
        expect(await late.ping()).toBe('PONG')
      } finally {
        late.disconnect()
      }
    }
  })
})
