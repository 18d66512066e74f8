import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { Redis } from 'ioredis'
import { requireBinary } from './binaries.js'
import { TestkitError } from './errors.js'
import { type RedisServer, startRedis } from './redis-server.js'
import { waitUntil } from './wait-until.js'

const run = promisify(execFile)

const MASTERS = 3
const CREATE_TIMEOUT_MS = 30_000
const READY_TIMEOUT_MS = 20_000

/** A local Redis Cluster of three masters, each a private `redis-server` with persistence off. */
export interface RedisCluster {
  /** Seed nodes, in the shape ioredis' `new Cluster(nodes)` takes. */
  readonly nodes: ReadonlyArray<{ host: string; port: number }>
  /** Stops every node and removes their directories. Safe to call twice. */
  stop(): Promise<void>
}

async function clusterIsReady(node: RedisServer): Promise<boolean> {
  const client = new Redis({ host: node.host, port: node.port, lazyConnect: true, maxRetriesPerRequest: 0 })
  client.on('error', () => {})
  try {
    await client.connect()
    const info = String(await client.cluster('INFO'))
    // Every node must agree, not just one: a client seeded with a late node would otherwise see a partial map.
    return info.includes('cluster_state:ok') && info.includes(`cluster_known_nodes:${MASTERS}`)
  } finally {
    client.disconnect()
  }
}

async function joinCluster(servers: RedisServer[]): Promise<void> {
  const addresses = servers.map((server) => `${server.host}:${server.port}`)
  const args = ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes']
  try {
    await run(requireBinary('redis-cli'), args, { timeout: CREATE_TIMEOUT_MS })
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string }
    throw new TestkitError(
      'TESTKIT_ERR_CLUSTER_CREATE',
      `redis-cli --cluster create failed:\n${stdout}${stderr}`,
      {
        cause: error,
      },
    )
  }
  try {
    await waitUntil(
      'cluster_state:ok on every node',
      async () => (await Promise.all(servers.map(clusterIsReady))).every(Boolean),
      { timeoutMs: READY_TIMEOUT_MS, intervalMs: 50 },
    )
  } catch (error) {
    throw new TestkitError('TESTKIT_ERR_CLUSTER_CREATE', (error as Error).message, { cause: error })
  }
}

/**
 * Starts three cluster-enabled masters on free loopback ports, assigns all 16384 slots with
 * `redis-cli --cluster create`, and resolves once every node reports `cluster_state:ok`.
 * Always private: `REDIS_URL` does not apply to clusters.
 */
export async function startRedisCluster(): Promise<RedisCluster> {
  const servers: RedisServer[] = []
  const stop = async () => {
    await Promise.all(servers.map((server) => server.stop()))
  }
  try {
    for (let index = 0; index < MASTERS; index++) {
      servers.push(
        await startRedis({
          allowExternal: false,
          // The node writes nodes.conf into its own temporary --dir, so clusters never share state.
          args: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf'],
        }),
      )
    }
    await joinCluster(servers)
  } catch (error) {
    await stop()
    throw error
  }
  return { nodes: servers.map(({ host, port }) => ({ host, port })), stop }
}
