import { startPostgres } from '@cachesaga/testkit'
import pg from 'pg'
import { inject } from 'vitest'

/** A fresh database for one test file, on the run's server. */
export interface TestDatabase {
  url: string
  /** The test's own pool for reads and writes. */
  pool: pg.Pool
  /** The URL with `application_name` set, so a test can find (and kill) one component's connections. */
  urlNamed(applicationName: string): string
  /** Kills every connection of `applicationName` (as a crash or a network cut would end them). */
  terminate(applicationName: string): Promise<number>
  drop(): Promise<void>
}

/**
 * `durable`: on the run's server that keeps PostgreSQL's durable settings (saga runners refuse a store without them),
 * instead of the fast one.
 */
export async function createTestDatabase(
  label: string,
  options: { durable?: boolean } = {},
): Promise<TestDatabase> {
  // The run's servers (wal_level=logical); a DATABASE_URL of the environment is not used for this package.
  process.env.DATABASE_URL = inject(options.durable ? 'durablePostgresUrl' : 'postgresPackageUrl')
  const server = await startPostgres()
  const database = await server.createDatabase(label)
  const pool = new pg.Pool({ connectionString: database.url, application_name: 'test', max: 8 })
  // Connections a test kills on purpose error while idle in the pool; the pool replaces them.
  pool.on('error', () => {})
  return {
    url: database.url,
    pool,
    urlNamed: (applicationName) => {
      const url = new URL(database.url)
      url.searchParams.set('application_name', applicationName)
      return url.toString()
    },
    terminate: async (applicationName) => {
      // In the select list, so it runs only for the rows the WHERE kept.
      const { rows } = await pool.query<{ killed: boolean }>(
        `SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity
         WHERE application_name = $1 AND datname = current_database()`,
        [applicationName],
      )
      return rows.filter((row) => row.killed).length
    },
    drop: async () => {
      // Slots pin the database: a test that forgot one must not keep it from being dropped.
      await pool.query(
        'SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = current_database() AND NOT active',
      )
      await pool.end()
      await database.drop()
      await server.stop()
    },
  }
}
