import type { CacheStats, InstanceSnapshot } from '@cachesaga/core'
import { count } from '../output/result.js'
import type { CommandModule } from './command.js'

function hitRate(stats: CacheStats): string {
  const calls = stats.l1.hits + stats.l1.misses
  return calls === 0 ? 'n/a' : `${(((stats.l1.hits + stats.l2.hits) / calls) * 100).toFixed(1)}%`
}

function line(snapshot: InstanceSnapshot, now: number): string {
  const s = snapshot.stats
  return (
    `instance ${snapshot.instanceId} (${Math.round((now - snapshot.at) / 1000)} s ago): ` +
    `hit rate ${hitRate(s)}, L1 ${s.l1.hits}/${s.l1.misses} hits/misses, L2 ${s.l2.hits}/${s.l2.misses}, ` +
    `loader ${s.loader.calls} calls ${s.loader.errors} errors, ${s.fillsRejectedStale} stale fills rejected, ` +
    `bus ${s.bus.gaps} gaps, p99 ${s.latencyMs.p99.toFixed(1)} ms${s.l2.circuitOpen ? ', circuit OPEN' : ''}`
  )
}

export const statsCommand: CommandModule = (program, action) => {
  program
    .command('stats')
    .description('Show the stats every live instance of the namespace last wrote (every 10 s by default).')
    .action(
      action(async (context) => {
        const cache = await context.cache()
        const instances = await cache.instances()
        const now = Date.now()
        return {
          human: [
            `${count(instances.length, 'live instance')} in ${context.namespaceLabel}`,
            ...instances.map((snapshot) => line(snapshot, now)),
          ],
          json: {
            namespace: context.globals.namespace,
            instances: instances.map(({ instanceId, at, stats }) => ({ instanceId, at, stats })),
          },
          warnings:
            instances.length === 0
              ? ['no live instance wrote stats: are the applications running with snapshotEvery enabled?']
              : [],
        }
      }),
    )
}
