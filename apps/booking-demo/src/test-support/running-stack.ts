import { type RadicaleServer, type RedisServer, startRadicale, startRedis } from '@cachesaga/testkit'
import { CalDavCalendarProvider } from '../calendar/caldav/caldav-calendar-provider.js'
import { ensureStaffCalendars } from '../calendar/ensure-staff-calendars.js'
import { calendarHome } from '../demo/demo-calendar.js'
import { LOAD_GENERATOR_LIMITS, ProcessStack, type StackOptions } from '../demo/process-stack.js'

export { mondayAhead } from '../demo/scenario.js'

import { demoIds, seedDemoData } from '../seed/seed-demo-data.js'
import { createTestDatabase, type TestDatabase } from './test-database.js'

/** A private Redis and Radicale, a seeded database of its own and the app's processes on them, for one test file. */
export interface RunningStack {
  db: TestDatabase
  redis: RedisServer
  radicale: RadicaleServer
  /** The calendar home the processes use, with the staff calendars created on it. */
  caldavUrl: string
  processes: ProcessStack
  /** Every line the processes printed, for a failing test to show. */
  output: string[]
  stop(): Promise<void>
}

export async function startRunningStack(
  label: string,
  options: Pick<StackOptions, 'apis' | 'workers' | 'workerFlags'>,
): Promise<RunningStack> {
  const db = await createTestDatabase(label)
  await seedDemoData(db.pool)
  // Without persistence: the sagas keep their state in PostgreSQL, not in Redis.
  const redis = await startRedis({ allowExternal: false })
  const radicale = await startRadicale()
  const caldavUrl = calendarHome(radicale)
  await ensureStaffCalendars(db.pool, new CalDavCalendarProvider({ url: caldavUrl }))
  const output: string[] = []
  const processes = await ProcessStack.start({
    ...options,
    // The tests are one address sending hundreds of requests a second, as the load command is.
    apiEnv: LOAD_GENERATOR_LIMITS,
    databaseUrl: db.url,
    redis: { url: redis.url },
    caldavUrl,
    log: (line) => output.push(line),
  }).catch(async (error: unknown) => {
    await radicale.stop()
    await redis.stop()
    await db.drop()
    throw new Error(`${(error as Error).message}\n${output.join('\n')}`)
  })
  return {
    db,
    redis,
    radicale,
    caldavUrl,
    processes,
    output,
    stop: async () => {
      await processes.stop()
      await radicale.stop()
      await redis.stop()
      await db.drop()
    },
  }
}

export const ada = demoIds.staff.ada
export const treatment = demoIds.services.treatment
export const consultation = demoIds.services.consultation
