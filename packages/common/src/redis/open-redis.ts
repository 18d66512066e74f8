import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis'
import type { RedisConnection } from './redis-connection.js'

/** How a package wants its connection to behave, whatever the user handed in. */
export interface ConnectionProfile {
  /**
   * Per-command timeout. Every command that is not a blocking one gets one, so a paused or partitioned
   * Redis fails calls instead of hanging them; leave it out only for BullMQ workers, whose blocking
   * commands wait on purpose.
   */
  commandTimeoutMs?: number
  /** ioredis `maxRetriesPerRequest`: `null` for BullMQ workers (it requires that), a small number otherwise. */
  maxRetriesPerRequest: number | null
  /** ioredis `autoResubscribe`; a subscriber that subscribes again itself on `ready` turns it off. */
  autoResubscribe?: boolean
  /** Send nothing until the first command or `connect()`. */
  lazyConnect?: boolean
  /** Batch the commands of one event-loop tick into one write (ioredis `enableAutoPipelining`). */
  enableAutoPipelining?: boolean
  /**
   * `false`: no reconnecting after a failed or lost connection, so a one-shot tool (the CLI) fails at once
   * with the reason instead of retrying until its deadline. Default true.
   */
  reconnect?: boolean
  /** `CLIENT SETNAME`, so `CLIENT LIST` on the server tells which process a connection belongs to. */
  connectionName?: string
}

/**
 * Opens a connection of this package's own from any `RedisConnection`. A client handed in is duplicated,
 * never used or closed directly: the caller's other commands keep their settings, and this package can
 * close what it opened.
 */
export function openRedis(connection: RedisConnection, profile: ConnectionProfile): Redis | Cluster {
  const node = nodeOptions(profile)
  if (typeof connection === 'string') return new Redis(connection, node)
  if (connection instanceof Cluster) {
    return connection.duplicate(undefined, clusterOptions(connection.options, profile))
  }
  if (connection instanceof Redis) return connection.duplicate(node)
  if ('cluster' in connection) {
    return new Cluster(connection.cluster, clusterOptions(connection.options ?? {}, profile))
  }
  return new Redis({ ...(connection as RedisOptions), ...node })
}

function nodeOptions(profile: ConnectionProfile): RedisOptions {
  const options: RedisOptions = { maxRetriesPerRequest: profile.maxRetriesPerRequest }
  if (profile.commandTimeoutMs !== undefined) options.commandTimeout = profile.commandTimeoutMs
  if (profile.autoResubscribe !== undefined) options.autoResubscribe = profile.autoResubscribe
  if (profile.lazyConnect !== undefined) options.lazyConnect = profile.lazyConnect
  if (profile.enableAutoPipelining !== undefined) options.enableAutoPipelining = profile.enableAutoPipelining
  if (profile.connectionName !== undefined) options.connectionName = profile.connectionName
  if (profile.reconnect === false) options.retryStrategy = () => null
  return options
}

function clusterOptions(base: ClusterOptions, profile: ConnectionProfile): ClusterOptions {
  const { lazyConnect, enableAutoPipelining, retryStrategy, ...perNode } = nodeOptions(profile)
  const options: ClusterOptions = { ...base, redisOptions: { ...base.redisOptions, ...perNode } }
  if (retryStrategy !== undefined) options.clusterRetryStrategy = () => null
  if (lazyConnect !== undefined) options.lazyConnect = lazyConnect
  if (enableAutoPipelining !== undefined) options.enableAutoPipelining = enableAutoPipelining
  return options
}

/** True when `client` is an ioredis `Cluster`. */
export function isCluster(client: Redis | Cluster): client is Cluster {
  return client instanceof Cluster
}
