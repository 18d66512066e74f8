import type { Cluster, ClusterNode, ClusterOptions, Redis, RedisOptions } from 'ioredis'
import { z } from 'zod'

/** ioredis options for a Redis Cluster: its seed nodes, and the cluster options (`redisOptions` apply to every node). */
export interface ClusterConnectionOptions {
  cluster: ClusterNode[]
  options?: ClusterOptions
}

/**
 * Where a cachesaga package finds Redis; core, saga, queue and the CLI all take this one shape:
 * - a `redis://` or `rediss://` URL;
 * - an ioredis `Redis` or `Cluster` (cachesaga duplicates it with its own timeouts and never closes yours);
 * - ioredis `RedisOptions` (host, port, password, `tls`, `sentinels` and `name` for Sentinel, ...);
 * - `{ cluster: nodes, options? }` for a Redis Cluster described by options.
 */
export type RedisConnection = string | Redis | Cluster | RedisOptions | ClusterConnectionOptions

const isClient = (value: unknown): value is Redis | Cluster =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as { duplicate?: unknown }).duplicate === 'function' &&
  typeof (value as { defineCommand?: unknown }).defineCommand === 'function'

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype

/** The message every package gives for something that is not a `RedisConnection`. */
export const REDIS_CONNECTION_EXPECTED =
  'expected a redis:// or rediss:// URL, an ioredis Redis or Cluster, ioredis options, or { cluster: nodes }'

/** Validates a `RedisConnection` inside a package's option schema; the value passes through unchanged. */
export const redisConnectionSchema = z.custom<RedisConnection>((value) => {
  if (typeof value === 'string') return /^rediss?:\/\/[^\s]*$/.test(value) && URL.canParse(value)
  if (isClient(value)) return true
  if (!isPlainObject(value)) return false
  if ('cluster' in value) return Array.isArray(value.cluster) && value.cluster.length > 0
  return true
}, REDIS_CONNECTION_EXPECTED)

/** True for a URL, client or options that name a Redis Cluster. */
export function isClusterConnection(connection: RedisConnection): boolean {
  if (typeof connection === 'string') return false
  if (isClient(connection)) return 'nodes' in connection && typeof connection.nodes === 'function'
  return 'cluster' in connection
}
