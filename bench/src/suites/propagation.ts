import { type ChildProcess, fork } from 'node:child_process'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { fmtUs, percentile, table } from '../measure.js'
import type { ContenderFactory } from './cache-reads.js'

const ROUNDS = 200
const CHILD = fileURLToPath(new URL('./propagation-child.ts', import.meta.url))

function nextMessage(
  child: ChildProcess,
  type: string,
  timeoutMs = 5_000,
): Promise<{ type: string; at?: number }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off('message', onMessage)
      reject(new Error(`no '${type}' from the child within ${timeoutMs} ms`))
    }, timeoutMs)
    const onMessage = (message: { type: string; at?: number }) => {
      if (message.type !== type) return
      clearTimeout(timer)
      child.off('message', onMessage)
      resolve(message)
    }
    child.on('message', onMessage)
  })
}

/**
 * A delete in this process, seen by an instance in another process: wall-clock time from the call to the
 * moment the other process applied the invalidation to its memory tier. One machine, so one clock.
 */
export async function runPropagationBench(options: {
  redisUrl: string
  contenders: Record<string, ContenderFactory>
}): Promise<{ markdown: string; p99Us: Record<string, number> }> {
  const rows: string[][] = []
  const p99Us: Record<string, number> = {}
  for (const [name, factory] of Object.entries(options.contenders)) {
    const namespace = `bench-prop-${name}-${Math.random().toString(36).slice(2, 8)}`
    const local = factory({ redisUrl: options.redisUrl, namespace, l1: true, bus: true })
    if (!local.onRemoteInvalidation) {
      rows.push([
        name,
        '-',
        '-',
        '-',
        'no cross-instance invalidation: other instances keep their copy until TTL',
      ])
      await local.close()
      continue
    }
    const child = fork(CHILD, [name, options.redisUrl, namespace], {
      execArgv: ['--import', 'tsx'],
      stdio: 'inherit',
    })
    await nextMessage(child, 'ready', 20_000)
    const latenciesUs: number[] = []
    let missed = 0
    for (let round = 0; round < ROUNDS; round++) {
      const key = `availability:prop:${round}`
      await local.set(key, { round })
      // Let the set's own bus traffic settle before the child warms its copy.
      await new Promise((r) => setTimeout(r, 5))
      child.send({ type: 'warm', key })
      await nextMessage(child, 'warmed')
      child.send({ type: 'arm' })
      await nextMessage(child, 'armed')
      const invalidated = nextMessage(child, 'invalidated', 2_000)
      const t0 = performance.timeOrigin + performance.now()
      await local.delete(key)
      try {
        const { at } = await invalidated
        if (at !== undefined) latenciesUs.push((at - t0) * 1000)
      } catch {
        missed++
      }
    }
    child.send({ type: 'exit' })
    await new Promise((r) => child.once('exit', r))
    await local.close()
    latenciesUs.sort((a, b) => a - b)
    p99Us[name] = percentile(latenciesUs, 99)
    rows.push([
      name,
      fmtUs(percentile(latenciesUs, 50)),
      fmtUs(percentile(latenciesUs, 99)),
      fmtUs(latenciesUs[latenciesUs.length - 1]),
      `${latenciesUs.length}/${ROUNDS}${missed ? ` (${missed} never arrived)` : ''}`,
    ])
  }
  return {
    markdown:
      `### Cross-process delete propagation (${ROUNDS} deletes)\n\n` +
      table(['contender', 'p50', 'p99', 'max', 'delivered'], rows),
    p99Us,
  }
}
