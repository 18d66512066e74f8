import { Redis } from 'ioredis'
import type { RedisCredentials } from './acl.js'

export interface Endpoint {
  readonly host: string
  readonly port: number
}

/** How long one control command may take; SAVE of a test dataset takes milliseconds. */
export const CONTROL_TIMEOUT_MS = 5_000

/**
 * Runs `use` on a fresh connection to `endpoint` logged in with `credentials`, then closes it. The whole
 * call (connect, log in, commands) is bounded by `timeoutMs`, so a paused or vanished server fails it
 * instead of hanging it. A fresh connection per call keeps controls independent of kills and restarts.
 */
export async function withConnection<T>(
  endpoint: Endpoint,
  credentials: RedisCredentials,
  use: (client: Redis) => Promise<T>,
  timeoutMs = CONTROL_TIMEOUT_MS,
): Promise<T> {
  const client = new Redis({
    host: endpoint.host,
    port: endpoint.port,
    ...credentials,
    lazyConnect: true,
    enableReadyCheck: false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
  })
  client.on('error', () => {})
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${endpoint.host}:${endpoint.port} did not answer within ${timeoutMs} ms`)),
      timeoutMs,
    )
  })
  try {
    return await Promise.race([client.connect().then(() => use(client)), deadline])
  } finally {
    clearTimeout(timer)
    client.disconnect()
  }
}
