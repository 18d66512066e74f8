import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Redis } from 'ioredis'

/**
 * CPU seconds used so far by the postmaster and every process it started (Linux /proc): the live ones, and through the
 * postmaster's cutime/cstime the ones that already exited (an autovacuum worker, a closed connection's backend), so
 * the sum never goes down between two readings.
 */
export function postgresCpuSeconds(dataDirectory: string): number {
  const postmaster = Number(readFileSync(join(dataDirectory, 'postmaster.pid'), 'utf8').split('\n')[0])
  const ticks = 100 // USER_HZ on Linux
  let total = 0
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      // Fields after the parenthesised command: state ppid ... utime(14) stime(15), counted from 1.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      const pid = Number(entry)
      if (pid !== postmaster && Number(fields[1]) !== postmaster) continue
      total += (Number(fields[11]) + Number(fields[12])) / ticks
      // cutime(16) cstime(17): the children it has reaped.
      if (pid === postmaster) total += (Number(fields[13]) + Number(fields[14])) / ticks
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return total
}

export async function redisCpuSeconds(redis: Redis): Promise<number> {
  const info = await redis.info('cpu')
  const read = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0)
  return read('used_cpu_sys') + read('used_cpu_user')
}
