import { randomUUID } from 'node:crypto'
import type { RedisConnection } from '@cachesaga/common'
import {
  type RedisCluster,
  type RedisServer,
  type StartRedisOptions,
  startRedis,
  startRedisCluster,
} from '@cachesaga/testkit'
import { Cluster, Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe } from 'vitest'
import { eventually } from '../testing/store-fixtures.js'

export { eventually }

/** Where saga tests run: every test that needs Redis runs on both. */
export const TOPOLOGIES = ['single node', '3-master cluster'] as const
export type Topology = (typeof TOPOLOGIES)[number]

/** The Redis of one topology, for one test file. */
export interface SagaRedis {
  readonly topology: Topology
  /** What runners are given: a URL, or `{ cluster: nodes }`. */
  readonly connection: RedisConnection
  /** The test's own client, for setting up and checking keys (on a cluster, keys of one command share a slot). */
  readonly client: Redis | Cluster
  /** Runners made with `testRunner` register here and are closed after each test. */
  readonly opened: Array<{ close(): Promise<void> }>
}

/**
 * Declares `specs` twice: on a private single Redis node and on testkit's 3-master Redis Cluster, each started once
 * for the file. Tests written once, run on both. Both keep an append-only file, as a saga store must (runners refuse
 * a Redis that can lose sagas), so every test also passes the persistence check.
 */
export function onEachTopology(specs: (redis: SagaRedis) => void): void {
  describe.each(TOPOLOGIES)('on a %s', (topology) => {
    specs(useSagaRedis(topology))
  })
}

function useSagaRedis(topology: Topology): SagaRedis {
  let server: RedisServer | RedisCluster
  let connection: RedisConnection
  let client: Redis | Cluster
  const opened: Array<{ close(): Promise<void> }> = []
  beforeAll(async () => {
    if (topology === 'single node') {
      const single = await startRedis({ allowExternal: false, persistence: 'aof' })
      server = single
      connection = single.url
      client = new Redis(single.url)
    } else {
      const cluster = await startRedisCluster()
      server = cluster
      connection = { cluster: [...cluster.nodes] }
      client = new Cluster([...cluster.nodes])
      // testkit starts cluster nodes without persistence; turn the append-only file on, as production would have it.
      await Promise.all(cluster.nodes.map((node) => turnOnAppendOnly(node)))
    }
  }, 90_000)
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((runner) => runner.close()))
  })
  afterAll(async () => {
    client?.disconnect()
    await server?.stop()
  })
  return {
    topology,
    get connection() {
      return connection
    },
    get client() {
      return client
    },
    opened,
  }
}

/**
 * `CONFIG SET appendonly yes` on a running node, then waits for the first append-only file to be written: until then
 * the node refuses to shut down, and a SIGTERM sent meanwhile (testkit's stop) would be lost.
 */
export async function turnOnAppendOnly(node: { host: string; port: number }): Promise<void> {
  const client = new Redis(node)
  try {
    await client.config('SET', 'appendonly', 'yes')
    await eventually(async () => {
      const info = await client.info('persistence')
      const writing = /aof_rewrite_in_progress:1|aof_rewrite_scheduled:1/.test(info)
      return /aof_enabled:1/.test(info) && !writing ? true : undefined
    })
  } finally {
    client.disconnect()
  }
}

/** A plain Redis server for one test file, for what only runs on a single node (BullMQ queues, the README). */
export function useRedis(options?: StartRedisOptions): {
  readonly url: string
  readonly server: RedisServer
} {
  let server: RedisServer
  beforeAll(async () => {
    server = await startRedis(options)
  })
  afterAll(async () => {
    await server?.stop()
  })
  return {
    get url() {
      return server.url
    },
    get server() {
      return server
    },
  }
}

export const freshPrefix = () => `test:${randomUUID().slice(0, 8)}:`
