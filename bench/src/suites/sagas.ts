import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { installSagaStore, PostgresSagaStore } from '@cachesaga/postgres'
import { createSagaRunner, defineSaga } from '@cachesaga/saga'
import { startPostgres, startRedis } from '@cachesaga/testkit'
import { Redis } from 'ioredis'
import pg from 'pg'
import { z } from 'zod'
import { fmtOps, fmtUs, median, percentile, table } from '../measure.js'
import { loadSagaBaseline } from '../saga-baseline.js'
import { postgresCpuSeconds, redisCpuSeconds } from '../server-cpu.js'
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
  /** What the store's server did, read before and after each round. */
  sample(): Promise<ServerSample>
  /** Runs one saga to its end. */
  run(sagaId: string): Promise<unknown>
  close(): Promise<void>
}

interface ServerSample {
  /** Requests the runner sent the store so far. */
  roundTrips: number
  /** CPU time of the store's server so far (all its processes), seconds. */
  cpuSeconds: number
  /** Redis's command statistics (Redis stores only). */
  commands?: Map<string, { calls: number; usec: number }>
}

interface Round {
  sagasPerSec: number
  /** Spans exported per saga (sampled tracing only). */
  spansPerSaga: number
  /** CPU time of this process (the runner's side) per saga, µs: less moved by other load than sagas/s. */
  cpuUsPerSaga: number
  p50Us: number
  p99Us: number
  roundTripsPerSaga: number
  /** CPU time of the store's server per saga (background work included). */
  serverCpuUsPerSaga: number
  /** Redis commands per saga, by command, from INFO commandstats (Redis stores only). */
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

/** This build on the Redis store, under a tracing mode: the runner opens its own connection from the URL. */
function current(redisUrl: string, admin: Redis, tracing: TracingMode): Contender {
  const saga = noopSaga({ createSagaRunner, defineSaga })
  const runner = createSagaRunner({ redis: redisUrl, keyPrefix: `bench:saga:now-${tracing}:`, sagas: [saga] })
  return {
    name: tracing === 'off' ? 'cachesaga (this build)' : `cachesaga (this build), ${TRACING_LABELS[tracing]}`,
    tracing,
    sample: () => redisSample(admin),
    run: (sagaId) => runner.run(saga, { n: 1 }, { sagaId }),
    close: () => runner.close(),
  }
}

/**
 * This build on the PostgreSQL store, as an app would run it: the store on the app's `pg.Pool` (pg's default of 10
 * connections). Every store call takes a connection from the pool once, so the pool's `acquire` events count the
 * round trips.
 */
function onPostgres(databaseUrl: string, dataDirectory: string): Contender {
  const saga = noopSaga({ createSagaRunner, defineSaga })
  const pool = new pg.Pool({ connectionString: databaseUrl })
  let acquired = 0
  pool.on('acquire', () => {
    acquired++
  })
  const store = new PostgresSagaStore({ database: pool })
  const runner = createSagaRunner({ store, sagas: [saga] })
  return {
    name: 'cachesaga (this build), PostgreSQL store',
    tracing: 'off',
    sample: async () => ({ roundTrips: acquired, cpuSeconds: postgresCpuSeconds(dataDirectory) }),
    run: (sagaId) => runner.run(saga, { n: 1 }, { sagaId }),
    close: async () => {
      await runner.close()
      await store.close()
      await pool.end()
    },
  }
}

/** The sources at `ref`, configured as that release was used: a runner on an ioredis client the caller owns. */
async function baseline(redisUrl: string, admin: Redis, ref: string): Promise<Contender> {
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
    sample: () => redisSample(admin),
    run: (sagaId) => runner.run(saga, { n: 1 }, { sagaId }),
    close: async () => {
      await runner.close()
      client.disconnect()
    },
  }
}

async function serverVersion(databaseUrl: string): Promise<string> {
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  try {
    return (await client.query<{ server_version: string }>('SHOW server_version')).rows[0]!.server_version
  } finally {
    await client.end()
  }
}

async function redisSample(admin: Redis): Promise<ServerSample> {
  const commands = new Map<string, { calls: number; usec: number }>()
  for (const line of (await admin.info('commandstats')).split('\n')) {
    const match = /^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/.exec(line)
    if (match) commands.set(match[1]!, { calls: Number(match[2]), usec: Number(match[3]) })
  }
  const roundTrips = ROUND_TRIP_COMMANDS.reduce(
    (sum, command) => sum + (commands.get(command)?.calls ?? 0),
    0,
  )
  return { roundTrips, cpuSeconds: await redisCpuSeconds(admin), commands }
}

let sagaIds = 0

/** `sagas` sagas with `inFlight` running at once; the store's server is sampled before and after. */
async function measure(contender: Contender, inFlight: number, sagas: number): Promise<Round> {
  await useTracing(contender.tracing)
  const latencies = new Float64Array(sagas)
  const before = await contender.sample()
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
  const after = await contender.sample()
  const callsPerSaga: Record<string, number> = {}
  let usec = 0
  for (const [command, { calls, usec: spent }] of after.commands ?? []) {
    // INFO itself is the bench's, not the contender's.
    if (command === 'info') continue
    const previous = before.commands?.get(command)
    const delta = calls - (previous?.calls ?? 0)
    if (delta > 0) callsPerSaga[command] = delta / sagas
    // A script's time includes the commands it ran, which are counted again under their own names.
    if (ROUND_TRIP_COMMANDS.includes(command)) usec += spent - (previous?.usec ?? 0)
  }
  latencies.sort()
  return {
    sagasPerSec: (sagas / elapsed) * 1000,
    spansPerSaga: spans / sagas,
    cpuUsPerSaga: (cpu.user + cpu.system) / sagas,
    p50Us: percentile(latencies, 50),
    p99Us: percentile(latencies, 99),
    roundTripsPerSaga: (after.roundTrips - before.roundTrips) / sagas,
    serverCpuUsPerSaga: ((after.cpuSeconds - before.cpuSeconds) * 1e6) / sagas,
    callsPerSaga,
    redisUsPerSaga: usec / sagas,
  }
}

export interface SagaBenchResult {
  /** The Redis store in detail (commands per saga, Redis time), beside the baseline when there is one. */
  markdown: string
  /** The same saga on each store: the Redis store and the PostgreSQL store of this build. */
  byStore: string
  /** This build's sagas/s over the baseline's at each number in flight (median of the rounds' ratios). */
  speedup: Partial<Record<(typeof IN_FLIGHT)[number], number>>
}

/**
 * Sagas/s, latency and server cost per saga of the six-step no-op saga, at 1 and at 50 in flight, one runner, on each
 * store: Redis (with its commands per saga) and PostgreSQL. With a `baselineRef`, the same saga on the saga package
 * at that commit runs in the same process, on the same Redis. Rounds are interleaved (A B C, C B A, ...), and each
 * figure is the median round.
 */
export async function runSagaBench(options: {
  baselineRef?: string | undefined
  rounds: number
  sagas: Record<(typeof IN_FLIGHT)[number], number>
}): Promise<SagaBenchResult> {
  // Servers of its own, configured as a saga store must be, which is what users run and what this build's runner
  // requires: Redis with an append-only file synced every second and no eviction; PostgreSQL with its durable
  // defaults (fsync, synchronous_commit and full_page_writes on).
  const [server, postgres] = await Promise.all([
    startRedis({
      allowExternal: false,
      args: ['--appendonly', 'yes', '--appendfsync', 'everysec', '--maxmemory-policy', 'noeviction'],
    }),
    startPostgres({ allowExternal: false, durable: true }),
  ])
  const admin = new Redis(server.url)
  const database = await postgres.createDatabase('bench_sagas')
  await installSagaStore({ database: database.url })
  const version = await serverVersion(database.url)
  const onRedis = current(server.url, admin, 'off')
  const traced = TRACING_MODES.filter((mode) => mode !== 'off').map((mode) =>
    current(server.url, admin, mode),
  )
  const onPostgresStore = onPostgres(database.url, join(postgres.directory!, 'data'))
  const before = options.baselineRef ? await baseline(server.url, admin, options.baselineRef) : undefined
  const contenders = [...(before ? [before] : []), onRedis, ...traced, onPostgresStore]
  const rounds = new Map<string, Round[]>()
  try {
    for (const contender of contenders) {
      await measure(contender, 50, 500) // warm-up: JIT, script cache, connections
      for (const inFlight of IN_FLIGHT) rounds.set(`${contender.name}@${inFlight}`, [])
    }
    for (let round = 0; round < options.rounds; round++) {
      const order = round % 2 === 0 ? contenders : [...contenders].reverse()
      for (const inFlight of IN_FLIGHT) {
        for (const contender of order) {
          rounds
            .get(`${contender.name}@${inFlight}`)!
            .push(await measure(contender, inFlight, options.sagas[inFlight]))
        }
      }
    }
  } finally {
    for (const contender of contenders) await contender.close()
    admin.disconnect()
    await server.stop()
    await postgres.stop()
  }

  const roundsOf = (contender: Contender, inFlight: number) => rounds.get(`${contender.name}@${inFlight}`)!
  const pick = (mine: Round[], f: (r: Round) => number) => median(mine.map(f))
  const checkNs = offCheckNs()
  const speedup: SagaBenchResult['speedup'] = {}
  const rows: string[][] = []
  const storeRows: string[][] = []
  const tracingRows: string[][] = []
  const perRoundLists: string[] = []
  for (const inFlight of IN_FLIGHT) {
    const base = before ? roundsOf(before, inFlight) : undefined
    const untraced = roundsOf(onRedis, inFlight)
    for (const contender of [onRedis, ...traced]) {
      const mine = roundsOf(contender, inFlight)
      tracingRows.push([
        TRACING_LABELS[contender.tracing],
        String(inFlight),
        fmtOps(pick(mine, (r) => r.sagasPerSec)),
        fmtUs(pick(mine, (r) => r.p50Us)),
        fmtUs(pick(mine, (r) => r.p99Us)),
        mine === untraced
          ? '1'
          : `${median(mine.map((r, i) => r.sagasPerSec / untraced[i]!.sagasPerSec)).toFixed(2)}x`,
        fmtUs(pick(mine, (r) => r.cpuUsPerSaga)),
        mine === untraced
          ? '1'
          : `${median(mine.map((r, i) => untraced[i]!.cpuUsPerSaga / r.cpuUsPerSaga)).toFixed(2)}x`,
        pick(mine, (r) => r.spansPerSaga).toFixed(1),
      ])
      if (mine !== untraced) {
        const ratios = mine.map((r, i) => (untraced[i]!.cpuUsPerSaga / r.cpuUsPerSaga).toFixed(2))
        perRoundLists.push(`${contender.tracing} at ${inFlight} in flight ${ratios.join(', ')}`)
      }
    }
    for (const contender of [...(before ? [before] : []), onRedis]) {
      const mine = roundsOf(contender, inFlight)
      // Ratios per round (each pair ran back to back), then their median: drift between rounds cancels out.
      const vsBefore =
        base && mine !== base ? median(mine.map((r, i) => r.sagasPerSec / base[i]!.sagasPerSec)) : undefined
      if (vsBefore !== undefined) speedup[inFlight] = vsBefore
      const calls = mine.at(-1)!.callsPerSaga
      rows.push([
        contender.name,
        String(inFlight),
        fmtOps(pick(mine, (r) => r.sagasPerSec)),
        fmtUs(pick(mine, (r) => r.p50Us)),
        fmtUs(pick(mine, (r) => r.p99Us)),
        pick(mine, (r) => r.roundTripsPerSaga).toFixed(1),
        Object.values(calls)
          .reduce((a, b) => a + b, 0)
          .toFixed(1),
        Object.entries(calls)
          .sort(([, a], [, b]) => b - a)
          .map(([command, n]) => `${command} ${n.toFixed(1)}`)
          .join(', '),
        fmtUs(pick(mine, (r) => r.redisUsPerSaga)),
        vsBefore === undefined ? '' : `${vsBefore.toFixed(2)}x`,
      ])
    }
    for (const [store, contender] of [
      ['Redis', onRedis],
      ['PostgreSQL', onPostgresStore],
    ] as const) {
      const mine = roundsOf(contender, inFlight)
      storeRows.push([
        store,
        String(inFlight),
        fmtOps(pick(mine, (r) => r.sagasPerSec)),
        fmtUs(pick(mine, (r) => r.p50Us)),
        fmtUs(pick(mine, (r) => r.p99Us)),
        pick(mine, (r) => r.roundTripsPerSaga).toFixed(1),
        fmtUs(pick(mine, (r) => r.serverCpuUsPerSaga)),
      ])
    }
  }
  const workload =
    `${options.rounds} interleaved rounds of ${options.sagas[1]} sagas at 1 in flight and ${options.sagas[50]} at ` +
    '50, one runner in this process; medians of the rounds'
  const markdown = [
    `Six steps that each return a small result, on a Redis of the suite's own with an append-only file ` +
      `(appendfsync everysec), as a saga store needs; ${workload}. The Redis columns come ` +
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
  const byStore = [
    `The same six-step no-op saga on each store of this build; ${workload}, each store's rounds interleaved with the ` +
      "other's. Redis: the suite's own, append-only file synced every second, no eviction. PostgreSQL " +
      `${version}: the suite's own embedded server with its durable defaults (fsync, ` +
      'synchronous_commit, full_page_writes on: every commit waits for its WAL flush), the store on a `pg.Pool` of ' +
      'pg\'s default 10 connections. Both on loopback, on the same disk. "round trips" are the requests the ' +
      'runner sent the store per saga (for PostgreSQL, one statement and one pooled connection each; every write ' +
      'of a saga is one statement and its own transaction); "server CPU" is the CPU time of the whole server ' +
      '(every PostgreSQL process; Redis) per saga, background work included.',
    table(['store', 'in flight', 'sagas/s', 'p50', 'p99', 'round trips/saga', 'server CPU/saga'], storeRows),
  ].join('\n\n')
  return { markdown, byStore, speedup }
}
