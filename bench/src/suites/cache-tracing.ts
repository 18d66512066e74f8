import { trace } from '@opentelemetry/api'
import { compare, fmtOps, median, type Op, table } from '../measure.js'
import type { ContenderCache } from '../peers.js'
import {
  exportedSpans,
  offCheckNs,
  TRACING_LABELS,
  TRACING_MODES,
  type TracingMode,
  useTracing,
} from '../tracing-modes.js'
import { type ContenderFactory, cycling, KEYS, keyOf, SAMPLE_VALUE } from './cache-reads.js'

/** The reads measured under each tracing mode, as the "Cache reads" section runs them. */
const WORKLOADS = ['L1 hit', 'L2 hit', 'miss then fill'] as const
type Workload = (typeof WORKLOADS)[number]

interface Sample {
  opsPerSec: number
  /** A raw `Map` get under the same mode, in the same round (L1 hits only). */
  mapOpsPerSec?: number
  spansPerOp: number
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve))

/** Runs `work` inside one span of the application (a no-op span with no provider), the parent of every read. */
function inRequest<T>(work: () => Promise<T>): Promise<T> {
  return trace.getTracer('bench').startActiveSpan('request', async (span) => {
    try {
      return await work()
    } finally {
      span.end()
    }
  })
}

/**
 * Sequential `getOrSet` of this build with no tracer provider registered, the SDK's context manager alone, a provider
 * sampling nothing and one sampling everything (see tracing-modes.ts): an L1 hit (a memory tier holding every key,
 * beside a raw `Map` get under the same mode, since the context manager slows every `await` of the loop), an L2 hit
 * (a one-entry memory tier) and a miss then fill (a new key each call). Rounds interleave the modes (forward, then
 * backward) and each ratio is the median of the rounds' ratios to the no-provider run of the same round.
 */
export async function runCacheTracingBench(options: {
  redisUrl: string
  cachesaga: ContenderFactory
  /** Core at another commit (`--core-baseline`) and at HEAD, both from sources: their L1 hits, no provider. */
  baseline?: { ref: string; before: ContenderFactory; now: ContenderFactory } | undefined
  ops: number
  rounds: number
}): Promise<string> {
  const { redisUrl, ops, rounds, baseline } = options
  const namespace = (label: string) => `bench-trace-${label}-${Math.random().toString(36).slice(2, 8)}`
  const memory = options.cachesaga({ redisUrl, l1: true, namespace: namespace('l1') })
  const before = baseline?.before({ redisUrl, l1: true, namespace: namespace('before') })
  const now = baseline?.now({ redisUrl, l1: true, namespace: namespace('now') })
  const redisOnly = options.cachesaga({ redisUrl, l1: false, namespace: namespace('l2') })
  const filling = options.cachesaga({ redisUrl, l1: true, namespace: namespace('fill') })
  const map = new Map<string, object>()
  const loader = async () => SAMPLE_VALUE
  for (let i = 0; i < KEYS; i++) {
    map.set(keyOf(i), SAMPLE_VALUE)
    await memory.set(keyOf(i), SAMPLE_VALUE)
    await before?.set(keyOf(i), SAMPLE_VALUE)
    await now?.set(keyOf(i), SAMPLE_VALUE)
    await redisOnly.set(keyOf(i), SAMPLE_VALUE)
  }
  let fills = 0
  const ops_: Record<Workload, { op: Op; count: number }> = {
    // Ten times the calls, as the L1 rows of "Cache reads": a hit is a hundred times shorter than a round trip.
    'L1 hit': { op: cycling((k) => memory.getOrSet(k, loader)), count: ops * 10 },
    'L2 hit': { op: cycling((k) => redisOnly.getOrSet(k, loader)), count: ops },
    'miss then fill': { op: () => filling.getOrSet(`miss:${fills++}`, loader), count: ops },
  }
  const mapGet = cycling((k) => map.get(k))
  const beforeHit = before && cycling((k) => before.getOrSet(k, loader))
  const nowHit = now && cycling((k) => now.getOrSet(k, loader))
  /** The baseline's L1 hit, no provider, over this build's in the same round. */
  const vsBefore: number[] = []
  const samples = new Map<string, Sample[]>()
  const sampleOf = (workload: Workload, mode: TracingMode) => `${workload}@${mode}`
  const measure = async (workload: Workload, mode: TracingMode): Promise<Sample> => {
    await useTracing(mode)
    // An L1 hit reads whether a provider is registered once per event-loop turn: start on a new one.
    await nextTurn()
    const { op, count } = ops_[workload]
    // Inside an application span, as reads run inside a request: an L1 hit is traced only in a recorded trace.
    const { opsPerSec, mapOpsPerSec } = await inRequest(async () => ({
      opsPerSec: (await compare({ op }, { ops: count, rounds: 1 })).op!.opsPerSec,
      mapOpsPerSec:
        workload === 'L1 hit'
          ? (await compare({ mapGet }, { ops: count, rounds: 1 })).mapGet!.opsPerSec
          : undefined,
    }))
    // Less the application's span.
    const spans = Math.max(0, (await exportedSpans()) - 1)
    await useTracing('off')
    // The warm-up calls of `compare` were traced too.
    const calls = count + Math.min(count, 2_000)
    return { opsPerSec, ...(mapOpsPerSec !== undefined && { mapOpsPerSec }), spansPerOp: spans / calls }
  }
  try {
    for (let round = 0; round < rounds; round++) {
      const modes = round % 2 === 0 ? TRACING_MODES : [...TRACING_MODES].reverse()
      for (const workload of WORKLOADS) {
        for (const mode of modes) {
          const key = sampleOf(workload, mode)
          samples.set(key, [...(samples.get(key) ?? []), await measure(workload, mode)])
        }
      }
      if (beforeHit !== undefined && nowHit !== undefined) {
        const count = ops_['L1 hit'].count
        const pair = [
          ['before', beforeHit],
          ['now', nowHit],
        ] as const
        // Several short pairs a round: an L1 run is a few tens of milliseconds, as long as another process's slice.
        for (let pairs = 0; pairs < 5; pairs++) {
          const measured: Record<string, number> = {}
          for (const [name, op] of (round + pairs) % 2 === 0 ? pair : [...pair].reverse()) {
            await nextTurn()
            measured[name] = (await compare({ op }, { ops: count, rounds: 1 })).op!.opsPerSec
          }
          vsBefore.push(measured.now! / measured.before!)
        }
      }
    }
  } finally {
    await Promise.all(
      [memory, redisOnly, filling, ...(before && now ? [before, now] : [])].map((cache: ContenderCache) =>
        cache.close(),
      ),
    )
  }

  const rows: string[][] = []
  const perRound: string[] = []
  for (const workload of WORKLOADS) {
    const untraced = samples.get(sampleOf(workload, 'off'))!
    for (const mode of TRACING_MODES) {
      const mine = samples.get(sampleOf(workload, mode))!
      const ratios = mine.map((sample, i) => sample.opsPerSec / untraced[i]!.opsPerSec)
      const ofMap = mine.map((sample) => sample.opsPerSec / (sample.mapOpsPerSec ?? Number.NaN))
      rows.push([
        workload,
        TRACING_LABELS[mode],
        fmtOps(median(mine.map((sample) => sample.opsPerSec))),
        mode === 'off' ? '1' : `${median(ratios).toFixed(2)}x`,
        workload === 'L1 hit' ? `${(median(ofMap) * 100).toFixed(1)}%` : '',
        median(mine.map((sample) => sample.spansPerOp)).toFixed(2),
      ])
      if (mode !== 'off') perRound.push(`${workload}, ${mode}: ${ratios.map((r) => r.toFixed(2)).join(', ')}`)
    }
  }
  const checkNs = offCheckNs()
  return [
    '### Tracing (OpenTelemetry)',
    `Sequential \`getOrSet\` of this build under each tracing mode: an L1 hit (${ops * 10} calls over ${KEYS} ` +
      `cached keys), an L2 hit (a one-entry memory tier, ${ops} calls) and a miss then fill (a new key each call, ` +
      `${ops} calls); ${rounds} rounds, each running every mode of a workload back to back (forward, then ` +
      'backward). "vs none" is the median of the rounds\' ratios of ops/s to the no-provider run of the same round; ' +
      '"of a Map get" is the L1 hit\'s share of a raw `Map` get measured in the same mode (the context manager ' +
      'slows every `await` of the loop, the raw get included). Each run is inside one application span, as reads ' +
      'inside a request are: sampled, every read is a child span of it; an L1 hit is traced only inside a span ' +
      'being recorded (sampling off: never).',
    table(['read', 'tracing', 'ops/s', 'vs none', 'of a Map get', 'spans per call'], rows),
    `With no provider registered, a read past L1 checks once whether one is (\`PackageTracing.tracer()\`: ` +
      `${checkNs.toFixed(1)} ns in this run, median of 5 runs of 2 million), and an L1 hit reads the answer of the ` +
      "turn's first check (a field read; the check itself runs once per event-loop turn). Sampled, every call is a " +
      `\`cache getOrSet\` span. Per-round ratios to no provider: ${perRound.join('; ')}.`,
    ...(baseline === undefined
      ? []
      : [
          `Against core at \`${baseline.ref}\` (\`--core-baseline\`), no provider: the L1 hit of core at HEAD ran ` +
            "back to back with that commit's, both from their sources through tsx (compiled alike), five pairs a " +
            `round (order alternating): HEAD ${median(vsBefore).toFixed(2)}x that commit's ops/s (median of the ` +
            `pairs' ratios; per pair ` +
            `${vsBefore.map((r) => r.toFixed(2)).join(', ')}).`,
        ]),
  ].join('\n\n')
}
