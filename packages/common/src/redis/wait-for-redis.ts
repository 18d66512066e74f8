import type { Cluster, Redis } from 'ioredis'
import { CachesagaError } from '../errors/cachesaga-error.js'
import { redisFailureReason } from './redis-failure.js'

/** CS_ERR_REDIS_UNREACHABLE: Redis did not become ready in time; `details.target` names it, password redacted. */
export class RedisUnreachableError extends CachesagaError<'CS_ERR_REDIS_UNREACHABLE'> {
  override name = 'RedisUnreachableError'

  constructor(target: string, timeoutMs: number, cause: unknown) {
    const reason = redisFailureReason(cause)
    super('CS_ERR_REDIS_UNREACHABLE', `Redis at ${target} was not ready within ${timeoutMs} ms: ${reason}`, {
      cause,
      details: { target, timeoutMs },
    })
  }
}

/**
 * Resolves once `client` is ready; rejects with `RedisUnreachableError` after `timeoutMs`, naming `target`
 * and the last connection error (ECONNREFUSED, WRONGPASS, NOAUTH, a TLS failure...). It neither closes the
 * client nor stops its reconnecting: whoever owns the client decides whether to keep waiting in the background.
 */
export function waitForRedis(
  client: Redis | Cluster,
  { timeoutMs, target }: { timeoutMs: number; target: string },
): Promise<void> {
  if (client.status === 'ready') return Promise.resolve()
  return new Promise((resolve, reject) => {
    let lastError: unknown
    const settle = (error?: unknown) => {
      clearTimeout(timer)
      client.off('ready', onReady)
      client.off('error', onError)
      client.off('end', onEnd)
      if (error === undefined) resolve()
      else reject(error)
    }
    const onReady = () => settle()
    const onError = (error: unknown) => {
      lastError = error
    }
    // `end`: the client gave up reconnecting (or was closed); waiting longer cannot help.
    const onEnd = () => settle(new RedisUnreachableError(target, timeoutMs, lastError ?? 'connection closed'))
    const timer = setTimeout(() => settle(new RedisUnreachableError(target, timeoutMs, lastError)), timeoutMs)
    client.on('ready', onReady)
    client.on('error', onError)
    client.on('end', onEnd)
    if (client.status === 'wait') client.connect().catch(onError)
    else if (client.status === 'end') onEnd()
  })
}

/** QUIT within `timeoutMs`, then drop the socket whatever happened: a dead Redis cannot answer QUIT. */
export async function closeRedis(client: Redis | Cluster, timeoutMs: number): Promise<void> {
  if (client.status !== 'end' && client.status !== 'wait') {
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs)
    })
    await Promise.race([client.quit().catch(() => undefined), deadline]).finally(() => clearTimeout(timer))
  }
  client.disconnect()
}
