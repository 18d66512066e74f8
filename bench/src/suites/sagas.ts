import { performance } from 'node:perf_hooks'
import { createSagaRunner, defineSaga } from '@cachesaga/saga'
import { startRedis } from '@cachesaga/testkit'
import { Redis } from 'ioredis'
import { z } from 'zod'
import { fmtOps, fmtUs, median, percentile, table } from '../measure.js'
import { loadSagaBaseline } from '../saga-baseline.js'
import {
  exportedSpans,
  offCheckNs,
  TRACING_LABELS,
  TRACING_MODES,
  type TracingMode,
  useTracing,
} from '../tracing-modes.js'

/** The saga measured: six steps that each return a small result and do nothing else, so the runtime is all there is. */
const STEPS = ['reserve', 'price', 'charge', 'commit', 'calendar', 'notify'] as const
const IN_FLIGHT = [1, 50] as const
/** What a runner sends on the path measured here; every other command in the statistics runs inside a script. */
const ROUND_TRIP_COMMANDS = ['evalsha', 'eval', 'hgetall']

interface Contender {
  name: string
  /** The tracer provider registered while it runs (`off` for none). */
  tracing: TracingMode
  /** The saga package at another commit (`--saga-baseline`). */
  baseline?: true
  /** Runs one saga to its end. */
  run(sagaId: string): Promise<unknown>
  close(): Promise<void>
}

interface Round {
  sagasPerSec: number
  /** Spans exported per saga (sampled tracing only). */
  spansPerSaga: number
  /** CPU time of this process (the runner's side) per saga, µs: less moved by other load than sagas/s. */
  cpuUsPerSaga: number
  p50Us: number
  p99Us: number
  /** Redis commands per saga, by command, from INFO commandstats. */
  callsPerSaga: Record<string, number>
  /** Time Redis spent executing the round trips (scripts included), per saga (commandstats `usec`). */
  redisUsPerSaga: number
}

type SagaLibrary = Pick<typeof import('@cachesaga/saga'), 'createSagaRunner' | 'defineSaga'>

function noopSaga(library: SagaLibrary) {
  let saga = library.defineSaga('bench-noop', { input: z.object({ n: z.number() }) }) as ReturnType<
    typeof defineSaga
  >
  for (const step of STEPS) saga = saga.step(step, { run: () => ({ [step]: true }) }) as typeof saga
  return saga
}

/** This build, under a tracing mode: the runner opens its own connection from the URL. */
function current(redisUrl: string, tracing: TracingMode): Contender {
  const saga = noopSaga({ createSagaRunner, defineSaga })
  const runner = createSagaRunner({ redis: redisUrl, keyPrefix: `bench:saga:now-${tracing}:`, sagas: [saga] })
  return {
    name: tracing === 'off' ? 'cachesaga (this build)' : `cachesaga (this build), ${TRACING_LABELS[tracing]}`,
    tracing,
    run: (sagaId) => runner.run(saga, { n: 1 }, { sagaId }),
    close: () => runner.close(),
  }
}

/** The sources at `ref`, configured as that release was used: a runner on an ioredis client the caller owns. */
async function baseline(redisUrl: string, ref: string): Promise<Contender> {
  const library = (await loadSagaBaseline(ref)) as unknown as SagaLibrary
  const saga = noopSaga(library)
  const client = new Redis(redisUrl)
  const runner = (library.createSagaRunner as (options: unknown) => ReturnType<typeof createSagaRunner>)({
    redis: client,
    keyPrefix: 'bench:saga:before:',
    sagas: [saga],
  })
  return {
    name: `before (${ref})`,
    tracing: 'off',
    baseline: true,
    run: (sagaId) => runner.run(saga, { n: 1 }, { sagaId }),
    close: async () => {
      await runner.close()
      client.disconnect()
    },
  }
}

async function commandStats(admin: Redis): Promise<Map<string, { calls: number; usec: number }>> {
  const stats = new Map<string, { calls: number; usec: number }>()
  for (const line of (await admin.info('commandstats')).split('\n')) {
    const match = /^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/.exec(line)
    if (match) stats.set(match[1]!, { calls: Number(match[2]), usec: Number(match[3]) })
  }
  return stats
}

let sagaIds = 0

/** `sagas` sagas with `inFlight` running at once; Redis's command statistics are read before and after. */
async function measure(contender: Contender, admin: Redis, inFlight: number, sagas: number): Promise<Round> {
  await useTracing(contender.tracing)
  const latencies = new Float64Array(sagas)
  const before = await commandStats(admin)
  let next = 0
  const cpuBefore = process.cpuUsage()
  const start = performance.now()
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < sagas) {
        const index = next++
        const t0 = performance.now()
        await contender.run(`bench-${sagaIds++}`)
        latencies[index] = (performance.now() - t0) * 1000
      }
    }),
  )
  const elapsed = performance.now() - start
  const cpu = process.cpuUsage(cpuBefore)
  const spans = await exportedSpans()
  await useTracing('off')
  const after = await commandStats(admin)
  // INFO itself is not the contender's.
  after.delete('info')
  const callsPerSaga: Record<string, number> = {}
  let usec = 0
  for (const [command, { calls, usec: spent }] of after) {
    const delta = calls - (before.get(command)?.calls ?? 0)
    if (delta > 0) callsPerSaga[command] = delta / sagas
    // A script's time includes the commands it ran, which are counted again under their own names.
    if (ROUND_TRIP_COMMANDS.includes(command)) usec += spent - (before.get(command)?.usec ?? 0)
  }
  latencies.sort()
  return {
    sagasPerSec: (sagas / elapsed) * 1000,
    spansPerSaga: spans / sagas,
    p50Us: percentile(latencies, 50),
    p99Us: percentile(latencies, 99),
    callsPerSaga,
    redisUsPerSaga: usec / sagas,
    cpuUsPerSaga: (cpu.user + cpu.system) / sagas,
  }
}

export interface SagaBenchResult {
  markdown: string
  /** This build's sagas/s over the baseline's at each number in flight (median of the rounds' ratios). */
  speedup: Partial<Record<(typeof IN_FLIGHT)[number], number>>
}

/**
 * Sagas/s, latency and Redis commands per saga of the six-step no-op saga, at 1 and at 50 in flight. With a
 * `baselineRef`, the same saga on the saga package at that commit runs in the same process, on the same Redis, in
 * interleaved rounds (A B, B A, ...), and each figure is the median round.
 */
export async function runSagaBench(options: {
  baselineRef?: string | undefined
  rounds: number
  sagas: Record<(typeof IN_FLIGHT)[number], number>
}): Promise<SagaBenchResult> {
  // A Redis of its own, configured as a saga store must be (an append-only file synced every second, no eviction):
  // what users run, and what this build's runner requires.
  const server = await startRedis({
    allowExternal: false,
    args: ['--appendonly', 'yes', '--appendfsync', 'everysec', '--maxmemory-policy', 'noeviction'],
  })
  const admin = new Redis(server.url)
  const contenders = TRACING_MODES.map((mode) => current(server.url, mode))
  if (options.baselineRef) contenders.unshift(await baseline(server.url, options.baselineRef))
  const rounds = new Map<string, Round[]>()
  try {
    for (const contender of contenders) {
      await measure(contender, admin, 50, 500) // warm-up: JIT, script cache, connections
      for (const inFlight of IN_FLIGHT) rounds.set(`${contender.name}@${inFlight}`, [])
    }
    for (let round = 0; round < options.rounds; round++) {
      const order = round % 2 === 0 ? contenders : [...contenders].reverse()
      for (const inFlight of IN_FLIGHT) {
        for (const contender of order) {
          rounds
            .get(`${contender.name}@${inFlight}`)!
            .push(await measure(contender, admin, inFlight, options.sagas[inFlight]))
        }
      }
    }
  } finally {
    for (const contender of contenders) await contender.close()
    admin.disconnect()
    await server.stop()
  }

  const checkNs = offCheckNs()
  const speedup: SagaBenchResult['speedup'] = {}
  const rows: string[][] = []
  const tracingRows: string[][] = []
  const perRoundLists: string[] = []
  for (const inFlight of IN_FLIGHT) {
    const base = options.baselineRef ? rounds.get(`${contenders[0]!.name}@${inFlight}`) : undefined
    const thisBuild = contenders.find(
      (contender) => contender.tracing === 'off' && contender.baseline !== true,
    )!
    const untraced = rounds.get(`${thisBuild.name}@${inFlight}`)!
    for (const contender of contenders) {
      const mine = rounds.get(`${contender.name}@${inFlight}`)!
      const pick = (f: (r: Round) => number) => median(mine.map(f))
      // Ratios per round (each pair ran back to back), then their median: drift between rounds cancels out.
      const perRound = (of: Round[]) => median(mine.map((r, i) => r.sagasPerSec / of[i]!.sagasPerSec))
      if (contender.baseline !== true) {
        tracingRows.push([
          TRACING_LABELS[contender.tracing],
          String(inFlight),
          fmtOps(pick((r) => r.sagasPerSec)),
          fmtUs(pick((r) => r.p50Us)),
          fmtUs(pick((r) => r.p99Us)),
          mine === untraced ? '1' : `${perRound(untraced).toFixed(2)}x`,
          fmtUs(pick((r) => r.cpuUsPerSaga)),
          mine === untraced
            ? '1'
            : `${median(mine.map((r, i) => untraced[i]!.cpuUsPerSaga / r.cpuUsPerSaga)).toFixed(2)}x`,
          pick((r) => r.spansPerSaga).toFixed(1),
        ])
        if (mine !== untraced) {
          const ratios = mine.map((r, i) => (untraced[i]!.cpuUsPerSaga / r.cpuUsPerSaga).toFixed(2))
          perRoundLists.push(`${contender.tracing} at ${inFlight} in flight ${ratios.join(', ')}`)
        }
      }
      // The traced runs of this build have their own table.
      if (contender.tracing !== 'off') continue
      const vsBefore = base && mine !== base ? perRound(base) : undefined
      if (vsBefore !== undefined) speedup[inFlight] = vsBefore
      const calls = mine.at(-1)!.callsPerSaga
      const sent = ROUND_TRIP_COMMANDS.reduce((sum, command) => sum + (calls[command] ?? 0), 0)
      rows.push([
        contender.name,
        String(inFlight),
        fmtOps(pick((r) => r.sagasPerSec)),
        fmtUs(pick((r) => r.p50Us)),
        fmtUs(pick((r) => r.p99Us)),
        sent.toFixed(1),
        Object.values(calls)
          .reduce((a, b) => a + b, 0)
          .toFixed(1),
        Object.entries(calls)
          .sort(([, a], [, b]) => b - a)
          .map(([command, n]) => `${command} ${n.toFixed(1)}`)
          .join(', '),
        fmtUs(pick((r) => r.redisUsPerSaga)),
        vsBefore === undefined ? '' : `${vsBefore.toFixed(2)}x`,
      ])
    }
  }
  const markdown = [
    `Six steps that each return a small result, on a Redis of the suite's own with an append-only file ` +
      `(appendfsync everysec), as a saga store needs; ${options.rounds} interleaved rounds of ` +
      `${options.sagas[1]} sagas at 1 in flight and ${options.sagas[50]} at 50; medians. The Redis columns come ` +
      'from `INFO commandstats` around each round: "round trips" are the scripts and reads the runner sent ' +
      '(EVALSHA, EVAL, HGETALL: it sends nothing else on this path), "commands" also count those run inside the ' +
      'scripts, "Redis time" is what Redis spent executing them. "vs before" is the median of the rounds\' ratios ' +
      'of sagas/s.',
    table(
      [
        'saga package',
        'in flight',
        'sagas/s',
        'p50',
        'p99',
        'round trips/saga',
        'Redis commands/saga',
        'by command',
        'Redis time/saga',
        'vs before',
      ],
      rows,
    ),
    '### Tracing (OpenTelemetry)',
    'The same saga through this build with no tracer provider registered (the rows above), and with a provider ' +
      'registered as an application does (an AsyncLocalStorage context manager, the W3C propagator) that samples ' +
      "nothing, or everything, and with the SDK's context manager registered alone (cachesaga then traces nothing: " +
      'that row is what the context manager costs every promise of the process, whoever traces); all run in the ' +
      'same interleaved rounds, and "vs none" is the median of the rounds\' ratios of sagas/s.',
    table(
      [
        'tracing',
        'in flight',
        'sagas/s',
        'p50',
        'p99',
        'vs none',
        'CPU per saga',
        'CPU vs none',
        'spans per saga',
      ],
      tracingRows,
    ),
    `With no provider registered, tracing adds one check per run and one per step attempt (is a provider ` +
      `registered?): ${checkNs.toFixed(1)} ns each in this run (\`PackageTracing.tracer()\`, median of 5 runs of 2 ` +
      `million), ${((7 * checkNs) / 1_000).toFixed(2)} µs for this six-step saga. Sampled, a saga is a \`saga\` ` +
      'span and a span per step attempt.',
    `"CPU per saga" is this process's CPU time (the runner's side; Redis does the same work whatever the tracing), ` +
      `and "CPU vs none" the median of the rounds' ratios untraced / traced (below 1: that share more). Sagas/s ` +
      `spread widely between rounds on a shared machine; CPU per saga less. Per-round ratios of CPU per saga: ` +
      `${perRoundLists.join('; ')}.`,
  ].join('\n\n')
  return { markdown, speedup }
}
