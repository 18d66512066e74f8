import { readFile, writeFile } from 'node:fs/promises'
import type { WriteKind, WriteRecord } from './write-load.js'

/** What the reads' child process reports (autocannon's figures). */
export interface ReadFigures {
  requests: number
  durationS: number
  non2xx: number
  errors: number
  latencyMs: { p50: number; p99: number; max: number }
}

export interface Distribution {
  count: number
  p50: number
  p99: number
  max: number
}

/** The load command's findings, printed, written as JSON (`LOAD_RESULT {...}`) and as a RESULTS.md section. */
export interface LoadReport {
  date: string
  loadAverage: { start: number[]; end: number[] }
  setup: {
    apis: number
    workers: number
    staff: number
    connections: number
    /** Reads per second asked of autocannon; 0: as fast as they were answered. */
    readRate: number
    writeRate: number
    durationS: number
    redis: string
    calendars: boolean
  }
  reads: { perSecond: number; p50Ms: number; p99Ms: number; maxMs: number; non2xx: number; errors: number }
  writes: Record<WriteKind, Distribution & { perSecond: number; failed: number }>
  cache: { reads: number; databaseLoads: number; loadsSaved: number; savedPercent: number }
  freshness: {
    changes: number
    staleOnCommitting: number
    other: Distribution
    otherLastStaleP99Ms: number
    staleAfterWindow: number
    timedOut: number
    /** Publish to receipt of invalidations on the bus, the slowest instance's figures. */
    busLag: { count: number; p50: number | null; p99: number | null; max: number | null }
  }
}

/** Nearest-rank percentiles of `values`; zeros when there are none. */
export function distribution(values: readonly number[]): Distribution {
  if (values.length === 0) return { count: 0, p50: 0, p99: 0, max: 0 }
  const sorted = [...values].sort((a, b) => a - b)
  const at = (p: number) =>
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!
  return { count: sorted.length, p50: at(0.5), p99: at(0.99), max: sorted.at(-1)! }
}

export function writeFigures(records: readonly WriteRecord[], durationS: number): LoadReport['writes'] {
  const figures = {} as LoadReport['writes']
  for (const kind of ['book', 'cancel', 'reschedule'] as const) {
    const own = records.filter((record) => record.kind === kind)
    const ok = own.filter((record) => record.status === 200 || record.status === 201)
    figures[kind] = {
      ...distribution(ok.map((record) => record.ms)),
      perSecond: ok.length / durationS,
      failed: own.length - ok.length,
    }
  }
  return figures
}

export function freshnessFigures(records: readonly WriteRecord[]): Omit<LoadReport['freshness'], 'busLag'> {
  const seen = records.flatMap((record) => (record.freshness ? [record.freshness] : []))
  const watched = seen.filter((observation) => !observation.timedOut)
  return {
    changes: seen.length,
    staleOnCommitting: seen.filter((observation) => observation.staleOnCommitting).length,
    other: distribution(watched.map((observation) => observation.otherWindowMs)),
    otherLastStaleP99Ms: distribution(watched.map((observation) => observation.otherLastStaleMs)).p99,
    staleAfterWindow: seen.reduce((sum, observation) => sum + observation.staleAfterWindow, 0),
    timedOut: seen.length - watched.length,
  }
}

const ms = (value: number) => `${value.toFixed(1)} ms`

/** A markdown table with its columns padded to their widest cell, as the repository's formatter writes them. */
function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((cell, column) =>
    Math.max(3, cell.length, ...rows.map((row) => row[column]!.length)),
  )
  const line = (cells: readonly string[]) =>
    `| ${cells.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ')} |`
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)]
}

/** The report as a RESULTS.md section (a `##` heading and what follows it). */
export function reportMarkdown(report: LoadReport): string {
  const { setup, reads, writes, cache, freshness } = report
  const met = (ok: boolean) => (ok ? 'met' : '**missed**')
  const bookingsMet = writes.book.p99 <= 150
  // The other instance's window is bounded by the bus's delivery: the saga publishes before its instance answers.
  const windowP99 = freshness.busLag.p99 ?? Number.POSITIVE_INFINITY
  const stale = freshness.staleAfterWindow + freshness.staleOnCommitting
  const freshMet = windowP99 <= 10 && stale === 0
  const row = (name: string, d: LoadReport['writes'][WriteKind]) => [
    name,
    String(d.count),
    `${d.perSecond.toFixed(1)}/s`,
    ms(d.p50),
    ms(d.p99),
    ms(d.max),
    String(d.failed),
  ]
  return [
    '## Booking demo under load',
    '',
    `From \`pnpm --filter @cachesaga/booking-demo load\` on ${report.date}: ${setup.apis} API instances, ${setup.workers} workers, the relay, PostgreSQL (embedded, with its durable settings: the sagas are stored there), Redis (${setup.redis}) and Radicale on this machine, ${setup.staff} staff in four time zones, ${setup.calendars ? 'each with a CalDAV calendar on Radicale that every booking, cancellation and move writes to' : 'without external calendars (`--without-calendars`: the sagas skip the calendar step)'}. For ${setup.durationS} s, availability reads at ${setup.connections} connections across both instances (autocannon, in a process of its own, ${setup.readRate === 0 ? 'as fast as they are answered' : `at ${setup.readRate} reads/s`}) while ${setup.staff} writers (one per staff member, so at most ${setup.staff} writes in flight) book, cancel and move bookings at a steady ${setup.writeRate} writes/s in all, alternating the instance they write to. Load average ${report.loadAverage.start.map((v) => v.toFixed(2)).join(' ')} at the start and ${report.loadAverage.end.map((v) => v.toFixed(2)).join(' ')} at the end: the machine's 2 cores are shared with other agents' runs.`,
    '',
    ...table(
      ['target', 'goal', 'measured', ''],
      [
        [
          `bookings p99 at ${setup.staff} concurrent over ${setup.staff} staff`,
          '<= 150 ms',
          ms(writes.book.p99),
          met(bookingsMet),
        ],
        [
          'cross-instance freshness window p99 (bus delivery), and stale reads past it',
          '<= 10 ms, 0',
          `${freshness.busLag.p99 === null ? 'no messages' : ms(freshness.busLag.p99)}, ${stale}`,
          met(freshMet),
        ],
      ],
    ),
    '',
    `Reads: **${Math.round(reads.perSecond).toLocaleString('en')}/s**, p50 ${ms(reads.p50Ms)}, p99 ${ms(reads.p99Ms)}, max ${ms(reads.maxMs)} (${reads.non2xx} non-2xx, ${reads.errors} errors). Database loads saved: ${cache.loadsSaved.toLocaleString('en')} of ${cache.reads.toLocaleString('en')} cache reads (**${cache.savedPercent.toFixed(2)}%**) were answered without PostgreSQL (${cache.databaseLoads.toLocaleString('en')} loads).`,
    '',
    ...table(
      ['write', 'done', 'rate', 'p50', 'p99', 'max', 'failed'],
      [
        row('booking (`POST /bookings`)', writes.book),
        row('cancellation', writes.cancel),
        row('reschedule', writes.reschedule),
      ],
    ),
    '',
    `Freshness, over ${freshness.changes} committed changes. On the committing instance the window is 0 by construction (the saga invalidates before the instance answers); a read there right after the answer showed the old availability ${freshness.staleOnCommitting} times. On the other instance the window ends when the invalidation arrives on the bus: ${freshness.busLag.count.toLocaleString('en')} messages took p50 ${ms(freshness.busLag.p50 ?? 0)}, p99 ${ms(freshness.busLag.p99 ?? 0)}, max ${ms(freshness.busLag.max ?? 0)} from publish to receipt (core's \`bus:message\` lag, the instances' own clocks on one machine); since the publish precedes the committing instance's answer, this bounds the window from above. Read back to back from the answer on, the other instance's first answer showing the change was served p50 ${ms(freshness.other.p50)}, p99 ${ms(freshness.other.p99)}, max ${ms(freshness.other.max)} after it (this includes each read's wait behind the load), and the latest answer there still showing the old availability was served at p99 ${ms(freshness.otherLastStaleP99Ms)} after it (0: none was). Reads that showed the old availability after the window, on either instance: **${freshness.staleAfterWindow}**; changes not seen on the other instance within 5 s: ${freshness.timedOut}.`,
    '',
  ].join('\n')
}

/** Replaces the report's section of `path` (from its heading to the next `## `), or appends it. */
export async function writeReportSection(path: string, section: string): Promise<void> {
  const heading = '## Booking demo under load'
  const current = await readFile(path, 'utf8').catch(() => '# Benchmark results\n')
  const start = current.indexOf(heading)
  if (start === -1) {
    await writeFile(path, `${current.trimEnd()}\n\n${section}`)
    return
  }
  const after = current.indexOf('\n## ', start + heading.length)
  const rest = after === -1 ? '' : current.slice(after + 1)
  await writeFile(path, `${current.slice(0, start)}${section}${rest === '' ? '' : `\n${rest}`}`)
}
