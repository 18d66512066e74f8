import { type RedisServer, startRedis } from '@cachesaga/testkit'
import { ProcessStack, type StackOptions } from '../demo/process-stack.js'

export { mondayAhead } from '../demo/scenario.js'

import { demoIds, seedDemoData } from '../seed/seed-demo-data.js'
import { createTestDatabase, type TestDatabase } from './test-database.js'

/** A private Redis, a seeded database of its own and the app's processes on them, for one test file. */
export interface RunningStack {
  db: TestDatabase
  redis: RedisServer
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
  // With an append-only file: the booking saga's runner refuses a Redis that can lose sagas silently.
  const redis = await startRedis({ allowExternal: false, args: ['--appendonly', 'yes'] })
  const output: string[] = []
  const processes = await ProcessStack.start({
    ...options,
    databaseUrl: db.url,
    redisUrl: redis.url,
    log: (line) => output.push(line),
  }).catch(async (error: unknown) => {
    await redis.stop()
    await db.drop()
    throw new Error(`${(error as Error).message}\n${output.join('\n')}`)
  })
  return {
    db,
    redis,
    processes,
    output,
    stop: async () => {
      await processes.stop()
      await redis.stop()
      await db.drop()
    },
  }
}

export const ada = demoIds.staff.ada
export const treatment = demoIds.services.treatment
export const consultation = demoIds.services.consultation
