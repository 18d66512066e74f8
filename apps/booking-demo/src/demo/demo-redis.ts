import { type RedisServer, startRedis, startRedisCluster } from '@cachesaga/testkit'
import type { StackRedis } from './process-stack.js'

/** The Redis the demo's processes share, and how to let go of it. */
export interface DemoRedis {
  redis: StackRedis
  /** For people: where it is (password redacted by testkit's URL). */
  description: string
  stop(): Promise<void>
}

/**
 * `--cluster`: a private 3-master Redis Cluster (testkit's `startRedisCluster()`); otherwise `REDIS_URL`, or a
 * private `redis-server`. Servers the demo starts keep an append-only file: the queues' jobs (events the relay
 * already handed over) are worth keeping across a Redis restart. The sagas are not in Redis: their state is in
 * PostgreSQL. Without the binary, the error says how to get one.
 */
export async function startDemoRedis(env: NodeJS.ProcessEnv, cluster: boolean): Promise<DemoRedis> {
  try {
    if (cluster) {
      const started = await startRedisCluster({ persistence: 'aof' })
      return {
        redis: { clusterNodes: started.nodes },
        description: `private 3-master Redis Cluster on ports ${started.nodes.map((node) => node.port).join(', ')}`,
        stop: () => started.stop(),
      }
    }
    const server: RedisServer = env.REDIS_URL ? await startRedis() : await startRedis({ persistence: 'aof' })
    return {
      redis: { url: server.url },
      description: `${server.owned ? 'private redis-server' : 'from REDIS_URL'} at ${server.url}`,
      stop: () => server.stop(),
    }
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'TESTKIT_ERR_BINARY_MISSING') throw error
    throw new Error(
      `${cluster ? '--cluster needs redis-server' : 'REDIS_URL is not set and redis-server is not'} on PATH, so the demo has no Redis.\n` +
        'Fix: install redis-server (Debian/Ubuntu: apt-get install redis-server, macOS: brew install redis),\n' +
        'or point the demo at a running Redis: REDIS_URL=redis://127.0.0.1:6380 pnpm demo',
      { cause: error },
    )
  }
}
