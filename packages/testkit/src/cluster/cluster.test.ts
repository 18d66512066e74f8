import { connect } from 'node:net'
import { Cluster, Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RedisCluster, startRedisCluster } from '../index.js'

describe('startRedisCluster', () => {
  let cluster: RedisCluster
  let client: Cluster
  const direct = new Map<number, Redis>()

  beforeAll(async () => {
    cluster = await startRedisCluster()
    client = new Cluster([...cluster.nodes])
    client.on('error', () => {}) // one test takes a master down on purpose
    for (const { host, port } of cluster.nodes) {
      const connection = new Redis({ host, port })
      connection.on('error', () => {})
      direct.set(port, connection)
    }
  })
  afterAll(async () => {
    client?.disconnect()
    for (const connection of direct.values()) connection.disconnect()
    await cluster?.stop()
  })

  /** Slot ranges and the port of the master serving each, according to the cluster itself. */
  async function slotOwners(): Promise<Array<{ from: number; to: number; port: number | undefined }>> {
    const ranges = await client.cluster('SLOTS')
    return ranges.map(([from, to, master]) => ({ from, to, port: master?.[1] }))
  }

  async function ownerOf(key: string, owners: Awaited<ReturnType<typeof slotOwners>>): Promise<number> {
    const slot = Number(await client.cluster('KEYSLOT', key))
    const owner = owners.find(({ from, to }) => from <= slot && slot <= to)?.port
    if (owner === undefined) throw new Error(`no master owns slot ${slot}`)
    return owner
  }

  it('runs three masters that together own every slot', async () => {
    expect(cluster.nodes).toHaveLength(3)
    const owners = await slotOwners()
    expect(owners.reduce((sum, { from, to }) => sum + (to - from + 1), 0)).toBe(16_384)
    expect(new Set(owners.map(({ port }) => port))).toEqual(new Set(cluster.nodes.map(({ port }) => port)))
  })

  it('stores keys of different slots on different masters and reads them back through the cluster client', async () => {
    const owners = await slotOwners()
    // One key per master, found by asking the cluster where candidate keys hash to.
    const keyOfMaster = new Map<number, string>()
    for (let i = 0; keyOfMaster.size < 3; i++) {
      const key = `booking:${i}`
      const owner = await ownerOf(key, owners)
      if (!keyOfMaster.has(owner)) keyOfMaster.set(owner, key)
    }

    for (const key of keyOfMaster.values()) await client.set(key, `value of ${key}`)

    for (const [port, key] of keyOfMaster) {
      // Each master holds its own key and redirects the others' keys: the writes really were spread.
      for (const [otherPort, node] of direct) {
        if (otherPort === port) expect(await node.get(key)).toBe(`value of ${key}`)
        else await expect(node.get(key)).rejects.toThrow(/MOVED/)
      }
      expect(await client.get(key)).toBe(`value of ${key}`)
    }
  })

  it('reports three masters without replicas, in slot order, as the handles of its servers', async () => {
    const { masters } = await cluster.topology()
    expect(masters.map(({ node }) => node)).toEqual(cluster.servers)
    expect(masters.map(({ slots }) => slots[0]?.[0])).toEqual([0, 5461, 10_922])
    for (const { replicas } of masters) expect(replicas).toEqual([])
  })

  it('says what is wrong while a master without a replica is down, and settles once it is back', async () => {
    const master = await cluster.masterOf('booking:down')
    await master.kill()
    const failure = await cluster.waitUntilConsistent({ timeoutMs: 300 }).catch((error: unknown) => error)
    expect(failure).toMatchObject({ code: 'TESTKIT_ERR_CLUSTER_UNSETTLED' })
    expect((failure as Error).message).toMatch(new RegExp(`served by :${master.port}, which is down`))

    await master.restart()
    const { masters } = await cluster.waitUntilConsistent()
    expect(masters.map(({ node }) => node)).toContain(master)
    expect(await client.set('booking:down', 'up again')).toBe('OK')
  })

  it('stops every node', async () => {
    const own = await startRedisCluster()
    await own.stop()
    await own.stop()
    for (const { host, port } of own.nodes) {
      const refused = new Promise<string | undefined>((resolve) => {
        const socket = connect({ host, port })
        socket.once('connect', () => {
          socket.destroy()
          resolve(undefined)
        })
        socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code))
      })
      expect(await refused).toBe('ECONNREFUSED')
    }
  })
})
