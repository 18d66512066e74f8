import type { SoakReport } from './run-soak.js'
import { percentile, type Violation } from './staleness-checker.js'

const count = (n: number) => n.toLocaleString('en-US')
const ms = (n: number) => (Number.isNaN(n) ? 'at the end' : `${n.toFixed(1)} ms`)

function describeViolation(v: Violation): string {
  if (v.call !== undefined) {
    const took = Number.isNaN(v.call.ms) ? 'never returned' : `took ${ms(v.call.ms)}`
    return `process ${v.node} ${v.call.what}${v.item < 0 ? '' : ` of item ${v.item}`} ${took}`
  }
  const by =
    v.invalidatedBy < 0 ? '' : ` (invalidated by process ${v.invalidatedBy} ${ms(v.ageMs)} before the read)`
  return `process ${v.node} item ${v.item} returned v${v.returned}, expected >= v${v.expected}${by}`
}

/** The soak's printed summary: reads, faults by kind, violations by kind with examples, staleness. */
export function formatReport(report: SoakReport): string {
  const { options, tiers } = report
  const lines: string[] = []
  lines.push(
    `soak: ${options.durationMs / 1000} s, ${options.nodes} processes, ${options.items} items, seed ${options.seed}`,
  )
  const share = (n: number) => `${((100 * n) / Math.max(1, report.reads)).toFixed(1)}%`
  lines.push(
    `reads: ${count(report.reads)} (L1 ${share(tiers.l1)}, L2 ${share(tiers.l2)}, loader ${share(tiers.loader)}), ` +
      `stale within the bounds: ${count(report.staleReads - report.violations.filter((v) => v.kind !== 'stuck-at-end' && v.kind !== 'slow-call').length)}`,
  )
  const kinds = Object.entries(report.invalidationsByKind)
    .map(([kind, n]) => `${kind} ${count(n)}`)
    .join(', ')
  lines.push(
    `invalidations: ${count(report.invalidations)} (${kinds}); calls rejected and retried: ${count(report.failedInvalidationAttempts)}; ` +
      `resolved with the bus message not yet accepted: ${count(report.unpublished)}`,
  )
  lines.push(
    `longest call: read ${ms(report.longestCallMs.read)}, invalidate ${ms(report.longestCallMs.invalidate)}`,
  )
  const faultCounts = new Map<string, number>()
  for (const fault of report.faults) faultCounts.set(fault.kind, (faultCounts.get(fault.kind) ?? 0) + 1)
  lines.push(
    `faults: ${report.faults.length === 0 ? 'none' : [...faultCounts].map(([kind, n]) => `${kind} ${n}`).join(', ')}`,
  )
  const sorted = [...report.crossProcessStalenessMs].sort((a, b) => a - b)
  lines.push(
    `cross-process staleness: p50 ${ms(percentile(sorted, 50))}, p99 ${ms(percentile(sorted, 99))}, ` +
      `max ${ms(sorted.at(-1) ?? 0)} over ${count(sorted.length)} (invalidation, process) pairs`,
  )
  if (report.violations.length === 0) {
    lines.push('violations: none')
  } else {
    const byKind = new Map<string, Violation[]>()
    for (const v of report.violations) byKind.set(v.kind, [...(byKind.get(v.kind) ?? []), v])
    lines.push(`violations: ${count(report.violations.length)}`)
    for (const [kind, list] of byKind) {
      lines.push(`  ${kind}: ${count(list.length)}`)
      for (const v of list.slice(0, 3)) lines.push(`    e.g. ${describeViolation(v)}`)
    }
  }
  return lines.join('\n')
}
