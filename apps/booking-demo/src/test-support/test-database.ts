import { startPostgres } from '@cachesaga/testkit'
import pg from 'pg'
import { inject } from 'vitest'
import { migrate } from '../db/migrate.js'

/** A fresh, migrated database for one test file. */
export interface TestDatabase {
  url: string
  /** A pool on it for the test's own reads and writes. */
  pool: pg.Pool
  /** A further pool whose connections carry `applicationName`, so a test can find and kill them. */
  namedPool(applicationName: string): pg.Pool
  drop(): Promise<void>
}

export async function createTestDatabase(label: string): Promise<TestDatabase> {
  // Points this worker's `startPostgres()` at the run's server; other projects' workers never see it.
  process.env.DATABASE_URL = inject('bookingDemoPostgresUrl')
  const server = await startPostgres()
  const database = await server.createDatabase(label)
  const pools: pg.Pool[] = []
  const open = (applicationName: string) => {
    const pool = new pg.Pool({ connectionString: database.url, application_name: applicationName, max: 16 })
    // Connections a test kills on purpose error while idle in the pool; the pool replaces them.
    pool.on('error', () => {})
    pools.push(pool)
    return pool
  }
  const pool = open('test')
  await migrate(pool)
  return {
    url: database.url,
    pool,
    namedPool: open,
    drop: async () => {
      await Promise.all(pools.map((p) => p.end()))
      await database.drop()
      await server.stop()
    },
  }
}
