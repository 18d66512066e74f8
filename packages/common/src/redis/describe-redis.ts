import type { RedisOptions } from 'ioredis'
import { isClusterConnection, type RedisConnection } from './redis-connection.js'

/**
 * Names a connection for an error message or a log line, with any password replaced by `***`:
 * `redis://:***@cache.internal:6379/0`, `sentinel mymaster via 10.0.0.1:26379`, `cluster 10.0.0.1:7000,10.0.0.2:7000`.
 */
export function describeRedis(connection: RedisConnection): string {
  if (typeof connection === 'string') return redactUrl(connection)
  if (isClusterConnection(connection)) {
    const nodes =
      'cluster' in connection && Array.isArray(connection.cluster)
        ? connection.cluster
        : ((connection as { startupNodes?: unknown[] }).startupNodes ?? [])
    return `cluster ${nodes.map(describeNode).join(',')}`
  }
  const options = ('options' in connection ? connection.options : connection) as RedisOptions
  if (options.sentinels != null && options.sentinels.length > 0) {
    return `sentinel ${options.name ?? 'mymaster'} via ${options.sentinels.map(describeNode).join(',')}`
  }
  if (options.path !== undefined) return `redis+unix://${options.path}`
  const scheme = options.tls === undefined ? 'redis' : 'rediss'
  const auth = options.password ? `${options.username ?? ''}:***@` : ''
  return `${scheme}://${auth}${options.host ?? '127.0.0.1'}:${options.port ?? 6379}/${options.db ?? 0}`
}

/** A URL with its password (if any) replaced by `***`; something that is not a URL is not echoed back. */
export function redactUrl(url: string): string {
  if (!URL.canParse(url)) return '(an unparsable Redis URL)'
  const parsed = new URL(url)
  if (parsed.password !== '') parsed.password = '***'
  return parsed.toString()
}

function describeNode(node: unknown): string {
  if (typeof node === 'number') return `127.0.0.1:${node}`
  if (typeof node === 'string') return URL.canParse(node) ? redactUrl(node) : node
  const { host = '127.0.0.1', port = 6379 } = (node ?? {}) as { host?: string; port?: number }
  return `${host}:${port}`
}
