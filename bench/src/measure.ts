import { performance } from 'node:perf_hooks'

export type Op = () => unknown

export interface Throughput {
  opsPerSec: number
  /** Per-op latency percentiles in microseconds, when recorded. */
  p50Us?: number
  p99Us?: number
}

/** Nearest-rank percentile of an ascending-sorted array. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[rank] as number
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return percentile(sorted, 50)
}

/**
 * Runs `op` sequentially (each call awaited) for `ops` iterations and returns ops/s and latency percentiles.
 * Awaiting every call, even a synchronous one, puts every contender in the same loop with the same overhead.
 */
async function runSequential(op: Op, ops: number, recordLatency: boolean): Promise<Throughput> {
  const latencies = recordLatency ? new Float64Array(ops) : undefined
  const start = performance.now()
  for (let i = 0; i < ops; i++) {
    if (latencies) {
      const t0 = performance.now()
      await op()
      latencies[i] = (performance.now() - t0) * 1000
    } else {
      await op()
    }
  }
  const elapsed = performance.now() - start
  const result: Throughput = { opsPerSec: (ops / elapsed) * 1000 }
  if (latencies) {
    latencies.sort()
    result.p50Us = percentile(latencies, 50)
    result.p99Us = percentile(latencies, 99)
  }
  return result
}

/** `concurrency` workers each awaiting `op` until `ops` calls have completed in total. */
async function runConcurrent(op: Op, ops: number, concurrency: number): Promise<Throughput> {
  const latencies = new Float64Array(ops)
  let next = 0
  const start = performance.now()
  const worker = async () => {
    while (next < ops) {
      const index = next++
      const t0 = performance.now()
      await op()
      latencies[index] = (performance.now() - t0) * 1000
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  const elapsed = performance.now() - start
  latencies.sort()
  return {
    opsPerSec: (ops / elapsed) * 1000,
    p50Us: percentile(latencies, 50),
    p99Us: percentile(latencies, 99),
  }
}

export interface CompareOptions {
  ops: number
  rounds: number
  concurrency?: number
  recordLatency?: boolean
  warmupOps?: number
}

/**
 * Measures every contender in interleaved rounds (A B C, A B C, ...) so machine drift hits all of them alike,
 * and reports the median round of each.
 */
export async function compare(
  contenders: Record<string, Op>,
  options: CompareOptions,
): Promise<Record<string, Throughput>> {
  const names = Object.keys(contenders)
  const rounds: Record<string, Throughput[]> = Object.fromEntries(names.map((n) => [n, []]))
  for (const name of names) {
    const op = contenders[name] as Op
    await runSequential(op, options.warmupOps ?? Math.min(options.ops, 2_000), false)
  }
  for (let round = 0; round < options.rounds; round++) {
    for (const name of names) {
      const op = contenders[name] as Op
      const result = options.concurrency
        ? await runConcurrent(op, options.ops, options.concurrency)
        : await runSequential(op, options.ops, options.recordLatency ?? false)
      rounds[name]?.push(result)
    }
  }
  const summary: Record<string, Throughput> = {}
  for (const name of names) {
    const results = rounds[name] ?? []
    const pick = (f: (t: Throughput) => number | undefined) => {
      const values = results.map(f).filter((v): v is number => v !== undefined)
      return values.length ? median(values) : undefined
    }
    const t: Throughput = { opsPerSec: pick((t) => t.opsPerSec) ?? 0 }
    const p50 = pick((t) => t.p50Us)
    const p99 = pick((t) => t.p99Us)
    if (p50 !== undefined) t.p50Us = p50
    if (p99 !== undefined) t.p99Us = p99
    summary[name] = t
  }
  return summary
}

export function fmtOps(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`
  return n.toFixed(0)
}

export function fmtUs(n: number | undefined): string {
  if (n === undefined || Number.isNaN(n)) return '-'
  return n >= 1000 ? `${(n / 1000).toFixed(2)} ms` : `${n.toFixed(0)} µs`
}

export function ratio(a: number, b: number): string {
  return b > 0 ? `${((a / b) * 100).toFixed(1)}%` : '-'
}

/** A Markdown table from a header and rows, columns padded the way the formatter (Biome) lays them out. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(3, h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]) => `| ${widths.map((w, i) => (cells[i] ?? '').padEnd(w)).join(' | ')} |`
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n')
}
