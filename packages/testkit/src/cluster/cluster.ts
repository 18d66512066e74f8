import { z } from 'zod'
import { TestkitError } from '../errors.js'
import { eventually } from '../eventually.js'
import { getFreePort } from '../free-port.js'
import { parseInput } from '../parse-input.js'
import { AclUsers, type RedisCredentials } from '../redis/acl.js'
import { nodeOptionsShape, type RedisAclUser, type RedisNodeOptions } from '../redis/options.js'
import { OwnedRedisServer } from '../redis/owned-server.js'
import { CLUSTER_CONFIG_FILE } from '../redis/persistence.js'
import type { RedisServer } from '../redis/server.js'
import { Elections } from './elections.js'
import { type Joining, joinCluster } from './join.js'
import { disagreements, type NodeView, readView, slotOwners } from './views.js'

const MASTERS = 3
const SETTLE_TIMEOUT_MS = 20_000

export interface StartRedisClusterOptions extends RedisNodeOptions {
  /** Replicas per master. Default 0: three masters, as before; 1 gives three masters and three replicas. */
  replicas?: number
  /**
   * `cluster-node-timeout`: how long a node may be silent before the others suspect it. A master that is
   * killed or paused for longer is replaced by its replica without being asked, about one to two timeouts
   * later. Default 2000 ms (Redis' own 15 s would make every automatic failover take about 20 s).
   */
  nodeTimeoutMs?: number
}

/** Who serves which slots, as a cluster node sees it. Every node agrees after `waitUntilConsistent()`. */
export interface ClusterTopology {
  /** In slot order. */
  masters: Array<{
    node: RedisServer
    /** Inclusive slot ranges. */
    slots: Array<[number, number]>
    /** Nodes replicating this master (including any the cluster believes failed). */
    replicas: RedisServer[]
  }>
}

export interface FailoverOptions {
  /**
   * `'graceful'`: plain `CLUSTER FAILOVER`; the master stops taking writes until the replica has caught up,
   * so no acknowledged write is lost. Needs the master to answer. `'force'`: `CLUSTER FAILOVER FORCE`; the
   * replica does not wait for its master (writes it had not replicated yet are lost) but still needs the
   * votes of a majority of masters. `'takeover'`: `CLUSTER FAILOVER TAKEOVER`; it takes the slots without
   * any vote. Default: `'graceful'` while the master runs, `'force'` when it is down or paused.
   */
  mode?: 'graceful' | 'force' | 'takeover'
  /** How long to wait for the cluster to agree on the new master. Default 20 000 ms. */
  timeoutMs?: number
}

/** Seed nodes and options for ioredis' `new Cluster(connection.cluster, connection.options)`. */
export interface ClusterConnection {
  cluster: Array<{ host: string; port: number }>
  options: { redisOptions: RedisCredentials }
}

/** A local Redis Cluster: three masters, optionally with replicas, each a private `redis-server`. */
export interface RedisCluster {
  /** Seed nodes (every node), in the shape ioredis' `new Cluster(nodes)` takes. */
  readonly nodes: ReadonlyArray<{ host: string; port: number }>
  /**
   * Every node's handle, with the fault controls of `startRedis()` (`kill`, `pause`, `restart`, `snapshot`...),
   * in creation order: the three masters first, then the replicas of the first master, of the second, ...
   * A node restarted with `from: 'empty'` loses its data but not its cluster membership.
   */
  readonly servers: readonly RedisServer[]
  /** Seeds and credentials that log in as `user` (`'default'` when omitted). */
  connectionFor(user?: string): ClusterConnection
  /** Who serves which slots and who replicates whom, according to the first running node. */
  topology(): Promise<ClusterTopology>
  /** The node that serves `key` now. */
  masterOf(key: string): Promise<RedisServer>
  /**
   * Promotes a running replica of `master` (`CLUSTER FAILOVER` on it) and resolves with it once every
   * running node agrees it serves the master's slots and the cluster is consistent again. A replica the
   * harness saw win an election is asked only once Redis has forgotten that election (see `elections.ts`).
   */
  failover(master: RedisServer, options?: FailoverOptions): Promise<RedisServer>
  /**
   * Resolves once the running nodes form a settled cluster: all report `cluster_state:ok`, agree on who serves
   * which slots and who replicates whom, flag no running node as failed, every slot is served by a running
   * node, and every running replica is linked to its master. After killing a master, this waits for its
   * replica to replace it on its own (within about two `nodeTimeoutMs`). Default timeout 20 000 ms.
   */
  waitUntilConsistent(options?: { timeoutMs?: number }): Promise<ClusterTopology>
  /** Creates an ACL user on every node (nodes that are down get it when they restart). */
  createUser(user: RedisAclUser): Promise<void>
  /** Stops every node and removes their directories. Safe to call twice. */
  stop(): Promise<void>
}

const optionsSchema = z.strictObject({
  ...nodeOptionsShape,
  replicas: z.int().min(0).max(4).default(0),
  nodeTimeoutMs: z.int().min(200).max(60_000).default(2_000),
})
const failoverSchema = z.strictObject({
  mode: z.enum(['graceful', 'force', 'takeover']).optional(),
  timeoutMs: z.number().positive().finite().default(SETTLE_TIMEOUT_MS),
})
const waitSchema = z.strictObject({ timeoutMs: z.number().positive().finite().default(SETTLE_TIMEOUT_MS) })

class OwnedRedisCluster implements RedisCluster {
  private readonly elections: Elections

  constructor(
    private readonly members: readonly Joining[],
    private readonly users: AclUsers,
    nodeTimeoutMs: number,
  ) {
    this.elections = new Elections(nodeTimeoutMs)
  }

  get nodes(): Array<{ host: string; port: number }> {
    return this.members.map(({ server }) => ({ host: server.host, port: server.port }))
  }

  get servers(): RedisServer[] {
    return this.members.map(({ server }) => server)
  }

  connectionFor(user = 'default'): ClusterConnection {
    return { cluster: this.nodes, options: { redisOptions: this.users.credentialsFor(user) } }
  }

  private running(): OwnedRedisServer[] {
    const running = this.members.map(({ server }) => server).filter(({ state }) => state === 'running')
    if (running.length === 0)
      throw new TestkitError('TESTKIT_ERR_INVALID_INPUT', 'no node of the cluster runs')
    return running
  }

  private byPort(port: number): OwnedRedisServer | undefined {
    return this.members.find(({ server }) => server.port === port)?.server
  }

  private member(node: RedisServer): OwnedRedisServer {
    const found = this.byPort(node.port)
    if (!found) {
      throw new TestkitError('TESTKIT_ERR_INVALID_INPUT', `:${node.port} is not a node of this cluster`, {
        details: { port: node.port },
      })
    }
    return found
  }

  private toTopology(view: NodeView): ClusterTopology {
    const masters = view.nodes
      .filter(({ flags, slots }) => flags.has('master') && slots.length > 0)
      .sort((a, b) => (a.slots[0]?.[0] ?? 0) - (b.slots[0]?.[0] ?? 0))
    return {
      masters: masters.flatMap((master) => {
        const node = this.byPort(master.port)
        if (!node) return []
        const replicas = view.nodes
          .filter(({ masterId }) => masterId === master.id)
          .flatMap(({ port }) => this.byPort(port) ?? [])
        return [{ node, slots: master.slots, replicas }]
      }),
    }
  }

  async topology(): Promise<ClusterTopology> {
    const topology = this.toTopology(await readView(this.running()[0]!))
    this.elections.observe(topology)
    return topology
  }

  async masterOf(key: string): Promise<RedisServer> {
    const asked = this.running()[0]!
    const slot = Number(await asked.admin((client) => client.call('CLUSTER', 'KEYSLOT', key)))
    const owner = slotOwners(await readView(asked)).find(({ from, to }) => from <= slot && slot <= to)
    const node = owner && this.byPort(owner.port)
    if (!node)
      throw new TestkitError('TESTKIT_ERR_CLUSTER_UNSETTLED', `no node serves slot ${slot} (key ${key})`)
    return node
  }

  /** One probe of consistency: the topology when settled, else an error listing what is not. */
  private async settled(tookOver?: OwnedRedisServer): Promise<ClusterTopology> {
    const states = new Map(this.members.map(({ server }) => [server.port, server.state] as const))
    const views = await Promise.all(this.running().map(readView))
    const problems = disagreements(views, states)
    if (problems.length > 0) throw new Error(problems.join('; '))
    const topology = this.toTopology(views[0]!)
    this.elections.observe(topology, tookOver)
    return topology
  }

  private async settle(
    what: string,
    timeoutMs: number,
    failover?: { replica: OwnedRedisServer; old: OwnedRedisServer; slots: string; takeover: boolean },
  ) {
    try {
      return await eventually(
        what,
        async () => {
          const topology = await this.settled(failover?.takeover ? failover.replica : undefined)
          const served = failover && topology.masters.find(({ node }) => node === failover.replica)
          if (failover && JSON.stringify(served?.slots) !== failover.slots) {
            throw new Error(`:${failover.replica.port} does not serve the slots of :${failover.old.port} yet`)
          }
          return topology
        },
        { timeoutMs, intervalMs: 50 },
      )
    } catch (error) {
      throw new TestkitError('TESTKIT_ERR_CLUSTER_UNSETTLED', (error as Error).message, {
        cause: error,
        details: { timeoutMs },
      })
    }
  }

  waitUntilConsistent(options: { timeoutMs?: number } = {}): Promise<ClusterTopology> {
    const { timeoutMs } = parseInput(waitSchema, options, 'waitUntilConsistent.options')
    return this.settle('the cluster settling', timeoutMs)
  }

  async failover(master: RedisServer, options: FailoverOptions = {}): Promise<RedisServer> {
    const { mode, timeoutMs } = parseInput(failoverSchema, options, 'failover.options')
    const old = this.member(master)
    const entry = (await this.topology()).masters.find(({ node }) => node === old)
    if (!entry) {
      throw new TestkitError('TESTKIT_ERR_INVALID_INPUT', `:${old.port} is not a master serving slots`, {
        details: { port: old.port },
      })
    }
    const replica = entry.replicas.map((node) => this.member(node)).find(({ state }) => state === 'running')
    if (!replica) {
      throw new TestkitError('TESTKIT_ERR_INVALID_INPUT', `master :${old.port} has no running replica`, {
        details: { port: old.port },
      })
    }
    const chosen = mode ?? (old.state === 'running' ? 'graceful' : 'force')
    if (chosen !== 'takeover') await this.elections.settled(replica)
    await replica.admin((client) =>
      chosen === 'graceful'
        ? client.call('CLUSTER', 'FAILOVER')
        : client.call('CLUSTER', 'FAILOVER', chosen.toUpperCase()),
    )
    await this.settle(`:${replica.port} taking over from :${old.port} (${chosen} failover)`, timeoutMs, {
      replica,
      old,
      slots: JSON.stringify(entry.slots),
      takeover: chosen === 'takeover',
    })
    return replica
  }

  createUser(user: RedisAclUser): Promise<void> {
    return this.members[0]!.server.createUser(user)
  }

  async stop(): Promise<void> {
    await Promise.all(this.members.map(({ server }) => server.stop()))
  }
}

/** `count` distinct free ports (the kernel may hand out a port again once its probe socket closed). */
async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>()
  while (ports.size < count) ports.add(await getFreePort())
  return [...ports]
}

/**
 * Starts three cluster-enabled masters (and `replicas` replicas of each) on free loopback ports, shares the
 * 16384 slots among the masters, attaches the replicas, and resolves once the cluster is consistent (see
 * `waitUntilConsistent`). Always private: `REDIS_URL` does not apply to clusters.
 */
export async function startRedisCluster(options: StartRedisClusterOptions = {}): Promise<RedisCluster> {
  const {
    replicas,
    nodeTimeoutMs,
    persistence,
    password,
    users: named,
    args,
  } = parseInput(optionsSchema, options, 'startRedisCluster.options')
  const users = new AclUsers(password, named)
  const count = MASTERS * (1 + replicas)
  const ports = await freePorts(2 * count)
  const servers: OwnedRedisServer[] = []
  const group = () => servers
  const started = await Promise.allSettled(
    Array.from({ length: count }, async (_, index) => {
      const port = ports[2 * index]!
      const busPort = ports[2 * index + 1]!
      const server = await OwnedRedisServer.start({
        port,
        persistence,
        users,
        group,
        args: [
          '--cluster-enabled',
          'yes',
          // In the node's own --dir, so clusters never share state.
          '--cluster-config-file',
          CLUSTER_CONFIG_FILE,
          // Explicit, because the default (port + 10000) overflows for ports above 55535.
          '--cluster-port',
          String(busPort),
          '--cluster-node-timeout',
          String(nodeTimeoutMs),
          // A replica's first sync starts at once instead of after Redis' default 5 s wait for more replicas.
          '--repl-diskless-sync-delay',
          '0',
          '--masteruser',
          users.admin.username,
          '--masterauth',
          users.admin.password,
          ...args,
        ],
      })
      servers[index] = server
      return { server, busPort }
    }),
  )
  const cluster = new OwnedRedisCluster(
    started.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : [])),
    users,
    nodeTimeoutMs,
  )
  try {
    const failed = started.find((outcome) => outcome.status === 'rejected')
    if (failed) throw failed.reason
    const members = started.map((outcome) => (outcome as PromiseFulfilledResult<Joining>).value)
    const masters = members.slice(0, MASTERS)
    const replicasOf = masters.map((_, index) =>
      members.slice(MASTERS + index * replicas, MASTERS + (index + 1) * replicas),
    )
    await joinCluster(masters, replicasOf).catch((error: unknown) => {
      throw new TestkitError(
        'TESTKIT_ERR_CLUSTER_CREATE',
        `joining the nodes failed: ${(error as Error).message}`,
        {
          cause: error,
        },
      )
    })
    await cluster.waitUntilConsistent().catch((error: unknown) => {
      throw new TestkitError('TESTKIT_ERR_CLUSTER_CREATE', (error as Error).message, { cause: error })
    })
  } catch (error) {
    await cluster.stop()
    throw error
  }
  return cluster
}
