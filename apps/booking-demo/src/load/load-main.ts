import { spawn } from 'node:child_process'
import { loadavg } from 'node:os'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { startPostgres } from '@cachesaga/testkit'
import pg from 'pg'
import { z } from 'zod'
import { CalDavCalendarProvider } from '../calendar/caldav/caldav-calendar-provider.js'
import { ensureStaffCalendars } from '../calendar/ensure-staff-calendars.js'
import { migrate } from '../db/migrate.js'
import type { ApiClient } from '../demo/api-client.js'
import { APP_DIRECTORY, appModule } from '../demo/child-process.js'
import { startDemoCalendar } from '../demo/demo-calendar.js'
import { startDemoRedis } from '../demo/demo-redis.js'
import { LOAD_GENERATOR_LIMITS, ProcessStack } from '../demo/process-stack.js'
import { mondayAhead } from '../demo/scenario.js'
import { parseInput } from '../parse-input.js'
import { demoIds, seedDemoData } from '../seed/seed-demo-data.js'
import {
  freshnessFigures,
  type LoadReport,
  type ReadFigures,
  reportMarkdown,
  writeFigures,
  writeReportSection,
} from './load-report.js'
import { seedLoadStaff } from './load-staff.js'
import { runWriteLoad } from './write-load.js'

/**
 * `pnpm --filter @cachesaga/booking-demo load`: starts the stack (2 API instances, 2 workers, the relay, on a
 * private Redis, an embedded PostgreSQL and a private Radicale, as `pnpm demo` does), seeds the load's staff,
 * then for `--duration` seconds runs availability reads at `--connections` across both instances while one
 * writer per staff member books, cancels and moves bookings at `--rate` writes/s, watching each change reach
 * both instances. Prints the figures, a `LOAD_RESULT {json}` line, and writes its section of `--out`
 * (bench/RESULTS.md by default).
 */
const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '30' },
    staff: { type: 'string', default: '20' },
    connections: { type: 'string', default: '50' },
    rate: { type: 'string', default: '40' },
    'read-rate': { type: 'string', default: '0' },
    out: { type: 'string', default: `${APP_DIRECTORY}../../bench/RESULTS.md` },
    cluster: { type: 'boolean', default: false },
    'without-calendars': { type: 'boolean', default: false },
  },
})
const options = parseInput(
  z.object({
    duration: z.coerce.number().positive(),
    staff: z.coerce.number().int().min(2),
    connections: z.coerce.number().int().positive(),
    rate: z.coerce.number().positive(),
    'read-rate': z.coerce.number().min(0),
    out: z.string().min(1),
    cluster: z.boolean(),
    'without-calendars': z.boolean(),
  }),
  values,
  '--',
)
const say = (text: string) => console.log(text)

/** Enough local days for every writer never to run out of free 30-minute slots (14 a day). */
function datesFor(): string[] {
  const slotsPerWriter = (options.rate * options.duration) / options.staff
  const weeks = Math.ceil(slotsPerWriter / (14 * 5)) + 1
  return Array.from({ length: weeks * 5 }, (_, index) => {
    const monday = Date.parse(mondayAhead(20 + Math.floor(index / 5)))
    return new Date(monday + (index % 5) * 86_400_000).toISOString().slice(0, 10)
  })
}

async function runReads(urls: string[], paths: string[]): Promise<ReadFigures> {
  const { file, nodeArgs } = appModule('load/read-load')
  const child = spawn(process.execPath, [...nodeArgs, file], {
    cwd: APP_DIRECTORY,
    env: {
      ...process.env,
      URLS: urls.join(','),
      PATHS: JSON.stringify(paths),
      CONNECTIONS: String(options.connections),
      READ_RATE: String(options['read-rate']),
      DURATION_S: String(options.duration),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let result: ReadFigures | undefined
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (line.startsWith('{')) result = JSON.parse(line) as ReadFigures
  })
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
  if (code !== 0 || result === undefined)
    throw new Error(`the reads' process ended with ${code} and no result`)
  return result
}

interface CacheCounters {
  reads: number
  loads: number
  /** The slowest instance's bus delivery figures (publish to receipt), over its last 10,000 messages. */
  busLag: { count: number; p50: number | null; p99: number | null; max: number | null }
}

interface HealthFigures {
  cache: { l1: { hits: number; misses: number }; loader: { calls: number } }
  bus_lag_ms: CacheCounters['busLag']
}

async function cacheCounters(apis: readonly ApiClient[]): Promise<CacheCounters> {
  const answers = await Promise.all(apis.map((api) => api.admin<HealthFigures>('/admin/cache/health')))
  const worst = (pick: (lag: CacheCounters['busLag']) => number | null) =>
    Math.max(...answers.map(({ body }) => pick(body.bus_lag_ms) ?? 0))
  return {
    reads: answers.reduce((sum, { body }) => sum + body.cache.l1.hits + body.cache.l1.misses, 0),
    loads: answers.reduce((sum, { body }) => sum + body.cache.loader.calls, 0),
    busLag: {
      count: answers.reduce((sum, { body }) => sum + body.bus_lag_ms.count, 0),
      p50: worst((lag) => lag.p50),
      p99: worst((lag) => lag.p99),
      max: worst((lag) => lag.max),
    },
  }
}

async function main(): Promise<void> {
  const redis = await startDemoRedis(process.env, options.cluster)
  const calendarServer = await startDemoCalendar(process.env)
  // With PostgreSQL's durable settings: the sagas' store is in it, and their runner refuses one that can lose commits.
  const postgres = await startPostgres({ durable: true })
  const pool = new pg.Pool({ connectionString: postgres.url, max: 4 })
  pool.on('error', () => {})
  let stack: ProcessStack | undefined
  try {
    await migrate(pool)
    await seedDemoData(pool)
    const staff = await seedLoadStaff(pool, options.staff, !options['without-calendars'])
    await ensureStaffCalendars(pool, new CalDavCalendarProvider({ url: calendarServer.url }))
    say(`Starting 2 API instances, 2 workers and the relay (Redis ${redis.description})...`)
    stack = await ProcessStack.start({
      databaseUrl: postgres.url,
      redis: redis.redis,
      caldavUrl: calendarServer.url,
      apis: 2,
      workers: 2,
      // One address (this machine) stands for thousands of clients: its limits are raised, as a load-test
      // environment's are; the limiter still counts every request.
      apiEnv: LOAD_GENERATOR_LIMITS,
      log: () => {},
    })
    const apis = [stack.client(0), stack.client(1)] as const
    const dates = datesFor()
    const serviceId = demoIds.services.consultation
    const paths = staff.flatMap((staffId) =>
      dates.map((date) => `/availability?staffId=${staffId}&serviceId=${serviceId}&date=${date}`),
    )
    const loadStart = loadavg()
    const before = await cacheCounters(apis)
    say(
      `Running for ${options.duration} s: reads at ${options.connections} connections, ${options.staff} writers at ${options.rate} writes/s...`,
    )
    const [reads, records] = await Promise.all([
      runReads(
        stack.apis.map((api) => api.url),
        paths,
      ),
      runWriteLoad({
        apis,
        staff,
        serviceId,
        dates,
        ratePerSecond: options.rate,
        durationMs: options.duration * 1_000,
      }),
    ])
    const after = await cacheCounters(apis)
    const cacheReads = after.reads - before.reads
    const loads = after.loads - before.loads
    const report: LoadReport = {
      date: new Date().toISOString(),
      loadAverage: { start: loadStart, end: loadavg() },
      setup: {
        apis: 2,
        workers: 2,
        staff: options.staff,
        connections: options.connections,
        writeRate: options.rate,
        durationS: options.duration,
        redis: options.cluster
          ? 'a private 3-master Redis Cluster'
          : 'a private redis-server, append-only file on',
        readRate: options['read-rate'],
        calendars: !options['without-calendars'],
      },
      reads: {
        perSecond: reads.requests / reads.durationS,
        p50Ms: reads.latencyMs.p50,
        p99Ms: reads.latencyMs.p99,
        maxMs: reads.latencyMs.max,
        non2xx: reads.non2xx,
        errors: reads.errors,
      },
      writes: writeFigures(records, options.duration),
      cache: {
        reads: cacheReads,
        databaseLoads: loads,
        loadsSaved: cacheReads - loads,
        savedPercent: cacheReads === 0 ? 0 : (100 * (cacheReads - loads)) / cacheReads,
      },
      freshness: { ...freshnessFigures(records), busLag: after.busLag },
    }
    const section = reportMarkdown(report)
    say(`\n${section}`)
    say(`LOAD_RESULT ${JSON.stringify(report)}`)
    await writeReportSection(options.out, section)
    say(`Written to ${options.out}`)
  } finally {
    await stack?.stop()
    await pool.end()
    await postgres.stop()
    await calendarServer.stop()
    await redis.stop()
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error((error as Error).message)
    process.exit(1)
  },
)
