import type { Redis } from 'ioredis'
import type { WorkerLog } from './worker-log.js'

/**
 * Reads `maxmemory_policy` from INFO, which managed Redis services answer even when CONFIG is disabled.
 * Returns `undefined` when the server does not report it.
 */
export async function readEvictionPolicy(redis: Redis): Promise<string | undefined> {
  const info = await redis.info('memory')
  return /^maxmemory_policy:(\S+)/m.exec(info)?.[1]
}

/** Logs a warning at start when BullMQ's Redis may evict keys (see the README: noeviction). */
export async function warnUnlessNoeviction(redis: Redis, log: WorkerLog): Promise<void> {
  const policy = await readEvictionPolicy(redis)
  if (policy === 'noeviction') return
  log(
    'warn',
    'Redis maxmemory-policy should be noeviction: an evicting Redis can silently drop queued jobs',
    {
      maxmemoryPolicy: policy ?? 'unknown',
    },
  )
}
