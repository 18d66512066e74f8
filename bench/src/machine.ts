import { cpus, freemem, loadavg, totalmem } from 'node:os'
import type { Redis } from 'ioredis'

/** A few lines that say what these numbers were measured on, and when. */
export async function describeMachine(redis: Redis): Promise<string> {
  const info = await redis.info('server')
  const redisVersion = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown'
  const cpu = cpus()
  return [
    `- date: ${new Date().toISOString()}`,
    `- cpu: ${cpu[0]?.model ?? 'unknown'} × ${cpu.length}`,
    `- memory: ${(totalmem() / 2 ** 30).toFixed(1)} GiB (${(freemem() / 2 ** 30).toFixed(1)} GiB free)`,
    `- load average at start: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
    `- node ${process.version}, Redis ${redisVersion} on loopback (private redis-server, persistence off)`,
  ].join('\n')
}
