import { table } from '../measure.js'
import type { ContenderFactory } from './cache-reads.js'

const CALLS = 1_000
const INSTANCES = 2
const LOADER_MS = 50

/**
 * 1,000 concurrent getOrSet calls on one missing key, split over two instances (each with its own Redis
 * connections, as two processes would have): how many times does the loader run?
 */
export async function runStampedeBench(options: {
  redisUrl: string
  contenders: Record<string, ContenderFactory>
}): Promise<{ markdown: string; loaderRuns: Record<string, number> }> {
  const rows: string[][] = []
  const runs: Record<string, number> = {}
  for (const [name, factory] of Object.entries(options.contenders)) {
    const namespace = `bench-stampede-${name}-${Math.random().toString(36).slice(2, 8)}`
    const instances = Array.from({ length: INSTANCES }, () =>
      factory({ redisUrl: options.redisUrl, namespace, l1: true, leases: true }),
    )
    let loaderRuns = 0
    const loader = async () => {
      loaderRuns++
      await new Promise((r) => setTimeout(r, LOADER_MS))
      return { slots: [1, 2, 3] }
    }
    const started = performance.now()
    await Promise.all(
      Array.from({ length: CALLS }, (_, i) =>
        instances[i % INSTANCES]?.getOrSet('availability:stampede', loader),
      ),
    )
    const elapsed = performance.now() - started
    rows.push([name, String(loaderRuns), `${elapsed.toFixed(0)} ms`])
    runs[name] = loaderRuns
    await Promise.all(instances.map((c) => c.close()))
  }
  return {
    markdown:
      `### Stampede: ${CALLS} concurrent misses of one key over ${INSTANCES} instances (loader takes ${LOADER_MS} ms)\n\n` +
      table(['contender', 'loader runs', 'time to serve all'], rows),
    loaderRuns: runs,
  }
}
