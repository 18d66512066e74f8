// `pnpm bench`: runs the suites side by side with the peers on one private Redis and writes bench/RESULTS.md.
// `pnpm bench --only cache,tags` runs some suites; `--quick` shrinks iteration counts for a smoke run.
// `--saga-baseline <git ref>` adds the saga package at that commit to the saga suite, as the "before";
// `--core-baseline <git ref>` adds core at that commit's L1 hit to the cache suite's tracing section.
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { startRedis } from '@cachesaga/testkit'
import { Redis } from 'ioredis'
import { CONTENDERS, cachesagaFactory, TAGGING_CONTENDERS } from './contenders.js'
import { describeMachine } from './machine.js'
import { fmtUs } from './measure.js'
import { loadPackageBaseline } from './saga-baseline.js'
import { runCacheReadsBench } from './suites/cache-reads.js'
import { runCacheTracingBench } from './suites/cache-tracing.js'
import { runCalendarSyncBench } from './suites/calendar-sync.js'
import { runPatternsBench } from './suites/patterns.js'
import { runPostgresBench } from './suites/postgres.js'
import { runPropagationBench } from './suites/propagation.js'
import { runQueueBench } from './suites/queue.js'
import { runSagaBench } from './suites/sagas.js'
import { runStampedeBench } from './suites/stampede.js'
import { runTagsBench } from './suites/tags.js'
import { TARGETS, type TargetCheck, targetsTable } from './targets.js'

const SUITES = [
  'cache',
  'stampede',
  'propagation',
  'tags',
  'patterns',
  'queue',
  'saga',
  'postgres',
  'calendar',
] as const
type Suite = (typeof SUITES)[number]

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    quick: { type: 'boolean', default: false },
    out: { type: 'string' },
    'saga-baseline': { type: 'string' },
    'core-baseline': { type: 'string' },
  },
})
const selected = new Set<Suite>(
  values.only ? (values.only.split(',').map((s) => s.trim()) as Suite[]) : [...SUITES],
)
for (const suite of selected) {
  if (!SUITES.includes(suite)) {
    console.error(`unknown suite '${suite}'; choose from ${SUITES.join(', ')}`)
    process.exit(2)
  }
}
const quick = values.quick
const out = values.out ?? new URL('../RESULTS.md', import.meta.url).pathname

const server = await startRedis({ args: ['--maxmemory-policy', 'noeviction'] })
const admin = new Redis(server.url)
const header = [
  '# Benchmark results',
  'Written by `pnpm bench` (bench/src/run.ts); bench/README.md says how to read it. All contenders run in one ' +
    'process (propagation: two), on one Redis, in interleaved rounds; each figure is the median round. ' +
    'Compare ratios within this file: the machine is shared and noisy, so absolute numbers move between runs.',
  '## Machine',
  await describeMachine(admin),
]
const sections: string[] = []
const checks: TargetCheck[] = []
const log = (s: string) => console.log(`[bench] ${s}`)
/**
 * The cachesaga contender on core at `ref` and at HEAD, both from their sources through tsx (the dist of this build is
 * compiled otherwise, which alone moves an L1 hit by a few percent), for the cache suite's tracing section.
 */
const coreBaseline = async (ref: string | undefined) => {
  if (ref === undefined) return undefined
  const load = async (at: string) =>
    cachesagaFactory(
      ((await loadPackageBaseline('core', at)) as unknown as typeof import('@cachesaga/core')).createCache,
    )
  return { ref, before: await load(ref), now: await load('HEAD') }
}
const pct = (ratio: number) => `${(ratio * 100).toFixed(1)}%`
const atLeast = (target: string, ratio: number, goal: number, of: string) =>
  checks.push({ target, goal: `>= ${pct(goal)} of ${of}`, measured: pct(ratio), met: ratio >= goal })

try {
  if (selected.has('cache')) {
    log('cache reads')
    const { markdown, ratios } = await runCacheReadsBench({
      redisUrl: server.url,
      contenders: CONTENDERS,
      subject: 'cachesaga',
      // Many short rounds: on a shared machine a median of many interleaved rounds moves less than one of a few long ones.
      ops: quick ? 2_000 : 10_000,
      rounds: quick ? 1 : 11,
    })
    sections.push('## Cache reads', markdown)
    log('cache reads, traced')
    sections.push(
      await runCacheTracingBench({
        redisUrl: server.url,
        cachesaga: CONTENDERS.cachesaga!,
        baseline: await coreBaseline(values['core-baseline']),
        ops: quick ? 2_000 : 10_000,
        rounds: quick ? 1 : 11,
      }),
    )
    atLeast('L1 hit, sequential getOrSet', ratios.l1Hit, TARGETS.l1Hit, 'a raw Map get')
    atLeast('L2 hit, sequential', ratios.l2HitSequential, TARGETS.l2HitSequential, 'a raw ioredis GET')
    atLeast('L2 hit, 50 in flight', ratios.l2HitConcurrent, TARGETS.l2HitConcurrent, 'a raw ioredis GET loop')
    atLeast('miss then fill', ratios.missThenFill, TARGETS.missThenFill, 'a raw ioredis GET+SET')
    checks.push({
      target: 'miss then fill, against the fastest peer',
      goal: `>= ${TARGETS.missThenFillVsBestPeer}x ${ratios.bestPeer}`,
      measured: `${ratios.missThenFillVsBestPeer.toFixed(2)}x`,
      met: ratios.missThenFillVsBestPeer >= TARGETS.missThenFillVsBestPeer,
    })
  }
  if (selected.has('stampede')) {
    log('stampede')
    const { markdown, loaderRuns } = await runStampedeBench({ redisUrl: server.url, contenders: CONTENDERS })
    sections.push('## Stampede', markdown)
    const runs = loaderRuns.cachesaga ?? Number.NaN
    checks.push({
      target: 'stampede over 2 instances, leases on',
      goal: `${TARGETS.stampedeLoaderRuns} loader run`,
      measured: `${runs} loader run${runs === 1 ? '' : 's'}`,
      met: runs <= TARGETS.stampedeLoaderRuns,
    })
  }
  if (selected.has('propagation')) {
    log('propagation')
    const { markdown, p99Us } = await runPropagationBench({ redisUrl: server.url, contenders: CONTENDERS })
    sections.push('## Propagation', markdown)
    const mine = p99Us.cachesaga ?? Number.NaN
    const bento = p99Us.BentoCache ?? Number.NaN
    checks.push({
      target: 'cross-process delete p99',
      goal: `<= BentoCache's (${fmtUs(bento)})`,
      measured: fmtUs(mine),
      met: mine <= bento,
    })
  }
  if (selected.has('tags')) {
    log('tags')
    const { markdown, results } = await runTagsBench({
      redisUrl: server.url,
      contenders: TAGGING_CONTENDERS,
      sizes: quick ? [1_000, 10_000] : [1_000, 10_000, 100_000],
      l1Entries: quick ? 10_000 : 100_000,
      reads: quick ? 500 : 5_000,
      rounds: quick ? 1 : 3,
    })
    sections.push('## Tags', markdown)
    const mine = results.filter((r) => r.contender === 'cachesaga')
    for (const r of mine) {
      const received = r.receivedMs ?? Number.NaN
      checks.push({
        target: `tag invalidation, ${r.size.toLocaleString('en')} tagged keys, full L1: call / applied elsewhere`,
        goal: `<= ${TARGETS.tagInvalidateMs} ms each`,
        measured: `${r.invalidateMs.toFixed(2)} ms / ${received.toFixed(2)} ms`,
        met: r.invalidateMs <= TARGETS.tagInvalidateMs && received <= TARGETS.tagInvalidateMs,
      })
    }
    const stall = mine.reduce((a, b) => (b.stallMs > a.stallMs ? b : a))
    checks.push({
      target: 'longest event-loop stall around a tag invalidation (worst size)',
      goal: `<= ${TARGETS.tagStallMs} ms`,
      measured: `${stall.stallMs.toFixed(2)} ms (at ${stall.size.toLocaleString('en')} keys)`,
      met: stall.stallMs <= TARGETS.tagStallMs,
    })
    const worst = mine.reduce((a, b) =>
      b.plainMissOps / b.readAfterOps > a.plainMissOps / a.readAfterOps ? b : a,
    )
    const cost = worst.plainMissOps / worst.readAfterOps
    checks.push({
      target: 'a read after a tag invalidation (worst size)',
      goal: `<= ${TARGETS.readAfterTagVsPlainMiss}x a plain miss`,
      measured: `${cost.toFixed(2)}x (at ${worst.size.toLocaleString('en')} keys)`,
      met: cost <= TARGETS.readAfterTagVsPlainMiss,
    })
    const stale = mine.reduce((n, r) => n + r.staleReads, 0)
    checks.push({
      target: 'stale reads after a tag invalidation',
      goal: '0',
      measured: String(stale),
      met: stale === 0,
    })
  }
  if (selected.has('patterns')) {
    log('patterns')
    const { markdown, results } = await runPatternsBench({
      redisUrl: server.url,
      keys: quick ? 10_000 : 100_000,
    })
    sections.push('## Patterns', markdown)
    const mine = results[0]
    if (mine !== undefined) {
      checks.push({
        target: `slowest Redis command, pattern invalidation of ${mine.removed.toLocaleString('en')} keys`,
        goal: `< ${TARGETS.patternSlowestCommandMs} ms`,
        measured: `${fmtUs(mine.slowestUs)} (${mine.slowestCommand})`,
        met: mine.slowestUs < TARGETS.patternSlowestCommandMs * 1000,
      })
    }
  }
  if (selected.has('queue')) {
    log('queue')
    const { markdown, ratio, cpuRatio } = await runQueueBench({ redisUrl: server.url, quick })
    sections.push('## Queue', markdown)
    atLeast('queue: events/s, cachesaga vs raw BullMQ with the same job options', ratio, 0.95, 'raw BullMQ')
    atLeast(
      'queue: CPU per event, raw BullMQ with the same job options vs cachesaga',
      cpuRatio,
      0.95,
      'cachesaga',
    )
  }
  if (selected.has('postgres')) {
    log('postgres')
    const { markdown } = await runPostgresBench({ redisUrl: server.url, rate: 500, seconds: quick ? 5 : 30 })
    sections.push('## PostgreSQL change capture', markdown)
  }
  if (selected.has('calendar')) {
    log('calendar sync')
    const calendar = await runCalendarSyncBench({ events: 1_000, changes: 10, rounds: quick ? 1 : 5 })
    sections.push('## External calendar sync (CalDAV)', calendar)
  }
  if (selected.has('saga')) {
    log('saga')
    const baselineRef = values['saga-baseline']
    const { markdown, byStore, speedup } = await runSagaBench({
      baselineRef,
      rounds: quick ? 1 : 9,
      sagas: quick ? { 1: 200, 50: 1_000 } : { 1: 1_000, 50: 5_000 },
    })
    sections.push('## Sagas', markdown, '## Sagas by store', byStore)
    const measured = speedup[50]
    if (baselineRef && measured !== undefined) {
      checks.push({
        target: 'sagas/s at 50 in flight, six no-op steps',
        goal: `>= ${TARGETS.sagaSpeedupAt50}x ${baselineRef}`,
        measured: `${measured.toFixed(2)}x`,
        met: measured >= TARGETS.sagaSpeedupAt50,
      })
    }
  }
} finally {
  admin.disconnect()
  await server.stop()
}

const targets = [
  '## Targets',
  'Computed from the numbers below. Where one is missed, the section it comes from says where the time goes.',
  targetsTable(checks),
]
writeFileSync(out, `${[...header, ...(checks.length > 0 ? targets : []), ...sections].join('\n\n')}\n`)
log(`wrote ${out}`)
