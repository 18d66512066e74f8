import type { Cache, HealthStatus } from '@cachesaga/core'
import { z } from 'zod'
import { count } from '../output/result.js'
import type { CommandModule } from './command.js'

const RANK: Record<HealthStatus, number> = { healthy: 0, degraded: 1, critical: 2 }
/** How long this process waits for its own bus subscription before judging itself. */
const READY_BOUND_MS = 3_000

const flagsSchema = z.object({ allowEmpty: z.boolean().default(false) })

/** Resolves when the cache is ready or the bound passed (then its health says why), whichever comes first. */
async function readyWithin(cache: Cache, ms: number): Promise<void> {
  await cache.ready({ timeout: ms }).catch(() => undefined)
}

export const healthCommand: CommandModule = (program, action) => {
  program
    .command('health')
    .description(
      'Judge the namespace from what its live instances last wrote and from Redis INFO. ' +
        'Exit 0 healthy, 1 degraded, critical, or no live instance.',
    )
    .option(
      '--allow-empty',
      'a namespace without live instances is judged on Redis alone instead of failing (e.g. before the first deploy)',
    )
    .action(
      action(async (context) => {
        const { allowEmpty } = context.input(flagsSchema)
        const cache = await context.cache()
        // A bus still subscribing reads as 'suspended', which would mark a healthy namespace degraded;
        // one that cannot subscribe within the bound is reported, since invalidations would not reach L1s.
        await readyWithin(cache, READY_BOUND_MS)
        const instances = await cache.instances()
        // This process has no traffic: its own health judges Redis only (INFO, circuit).
        const redis = await cache.health()
        const statuses: HealthStatus[] = [
          redis.status,
          ...instances.map((snapshot) => snapshot.health.status),
        ]
        const worst = statuses.reduce((a, b) => (RANK[b] > RANK[a] ? b : a), 'healthy')
        // Nothing alive is not healthy: a typo in --namespace must not read as a green check.
        const empty = instances.length === 0
        const status = empty && !allowEmpty ? 'no live instance' : worst
        const memory =
          redis.redis === null ? 'n/a' : `${(redis.redis.usedMemoryBytes / 1024 / 1024).toFixed(1)} MiB`
        return {
          human: [
            empty && !allowEmpty
              ? `no live instance in ${context.namespaceLabel} (pass --allow-empty to judge Redis alone)`
              : `${status} (${count(instances.length, 'live instance')} in ${context.namespaceLabel})`,
            `redis: used memory ${memory}, evicted keys ${redis.redis?.evictedKeys ?? 'n/a'}, ` +
              `keyspace hits ${redis.redis?.keyspaceHits ?? 'n/a'}, misses ${redis.redis?.keyspaceMisses ?? 'n/a'}`,
            ...redis.reasons.map((reason) => `redis: ${reason}`),
            ...instances.map(
              (snapshot) =>
                `instance ${snapshot.instanceId}: ${snapshot.health.status}` +
                (snapshot.health.reasons.length > 0 ? ` (${snapshot.health.reasons.join('; ')})` : ''),
            ),
          ],
          json: {
            status,
            namespace: context.globals.namespace,
            redis: { status: redis.status, reasons: redis.reasons, info: redis.redis },
            instances: instances.map(({ instanceId, at, health }) => ({ instanceId, at, health })),
          },
          warnings: empty && allowEmpty ? ['no live instance wrote its health; judged on Redis alone'] : [],
          exitCode: status === 'healthy' ? 0 : 1,
        }
      }),
    )
}
