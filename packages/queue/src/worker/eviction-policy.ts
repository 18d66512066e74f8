import type { Redis } from 'ioredis'

/**
 * Reads `maxmemory_policy` from INFO, which managed Redis services answer even when CONFIG is disabled.
 * Returns `undefined` when the server does not report it.
 */
export async function readEvictionPolicy(redis: Redis): Promise<string | undefined> {
  const info = await redis.info('memory')
  return /^maxmemory_policy:(\S+)/m.exec(info)?.[1]
}
