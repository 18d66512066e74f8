import { Cluster, type Redis } from 'ioredis'
import type { WorkerLog } from './worker-log.js'

/**
 * Reads `maxmemory_policy` from INFO, which managed Redis services answer even when CONFIG is disabled; on a cluster,
 * from every master. Returns `undefined` when a server does not report it.
 */
export async function readEvictionPolicies(client: Redis | Cluster): Promise<(string | undefined)[]> {
  const servers = client instanceof Cluster ? client.nodes('master') : [client]
  const infos = await Promise.all(servers.map((server) => server.info('memory')))
  return infos.map((info) => /^maxmemory_policy:(\S+)/m.exec(info)?.[1])
}

/** Logs a warning at start when BullMQ's Redis may evict keys (see the README: noeviction). */
export async function warnUnlessNoeviction(client: Redis | Cluster, log: WorkerLog): Promise<void> {
  const policies = await readEvictionPolicies(client)
  const evicting = policies.find((policy) => policy !== 'noeviction')
  if (policies.length > 0 && evicting === undefined) return
  log(
    'warn',
    'Redis maxmemory-policy should be noeviction: an evicting Redis can silently drop queued jobs',
    {
      maxmemoryPolicy: evicting ?? 'unknown',
    },
  )
}
