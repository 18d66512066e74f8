import { Session } from 'node:inspector/promises'
import type { Redis } from 'ioredis'
import { table } from './measure.js'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  hitCount?: number
}

function frameName(frame: ProfileNode['callFrame']): string {
  const file = frame.url
    .replace(/^file:\/\//, '')
    .replace(/^.*\/node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?/, '')
  const short = file.replace(/^.*\/(packages|bench)\//, '$1/')
  const where = short ? `${short}:${frame.lineNumber + 1}` : '(native)'
  return `${frame.functionName || '(anonymous)'} ${where}`
}

/** Samples the CPU while `run` executes and returns the top functions by self time, as a Markdown table. */
export async function cpuProfile(run: () => Promise<void>, top = 12): Promise<string> {
  const session = new Session()
  session.connect()
  await session.post('Profiler.enable')
  await session.post('Profiler.setSamplingInterval', { interval: 100 })
  await session.post('Profiler.start')
  await run()
  const { profile } = (await session.post('Profiler.stop')) as { profile: { nodes: ProfileNode[] } }
  session.disconnect()
  const selfByName = new Map<string, number>()
  let total = 0
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0
    total += hits
    const name = frameName(node.callFrame)
    selfByName.set(name, (selfByName.get(name) ?? 0) + hits)
  }
  const rows = [...selfByName.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, hits]) => [`\`${name}\``, `${((hits / total) * 100).toFixed(1)}%`])
  return table(['function (self time)', 'share of samples'], rows)
}

/** Redis's own time per call (INFO commandstats), for the commands that ran between two snapshots. */
export async function redisCommandCost(redis: Redis, run: () => Promise<void>): Promise<string> {
  const snapshot = async () => {
    const stats = new Map<string, { calls: number; usec: number }>()
    for (const line of (await redis.info('commandstats')).split('\n')) {
      const match = /^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/.exec(line.trim())
      if (match) stats.set(match[1] as string, { calls: Number(match[2]), usec: Number(match[3]) })
    }
    return stats
  }
  const before = await snapshot()
  await run()
  const after = await snapshot()
  const rows: string[][] = []
  for (const [command, end] of after) {
    const start = before.get(command) ?? { calls: 0, usec: 0 }
    const calls = end.calls - start.calls
    if (calls < 100) continue
    rows.push([command, String(calls), ((end.usec - start.usec) / calls).toFixed(2)])
  }
  rows.sort((a, b) => Number(b[1]) - Number(a[1]))
  return table(['Redis command', 'calls', 'µs inside Redis per call'], rows)
}
