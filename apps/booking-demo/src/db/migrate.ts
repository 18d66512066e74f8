import { readdir, readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { outboxSql, sagaStoreSql } from '@cachesaga/postgres'
import type pg from 'pg'
import { changeCapture } from '../cache/change-capture.js'
import { BookingDemoError } from '../errors.js'
import { withTransaction } from './transaction.js'

/** The app's migrations; the same relative path from `src/db` and from `dist/db`. */
const MIGRATIONS_DIRECTORY = fileURLToPath(new URL('../../migrations/', import.meta.url))

const FILE_NAME = /^(\d{3})_[a-z0-9_]+\.sql$/

// Any constant works; it only has to be the same for every process that migrates this database.
const MIGRATION_LOCK_KEY = 7_240_001

/**
 * Applies the `NNN_name.sql` files of `directory` that this database has not seen, in order, recording each
 * version, then @cachesaga/postgres's outbox, its saga store (the sagas' tables and functions) and change capture for
 * the tables `changeCapture` declares (all idempotent, so they are applied every time and follow the package's
 * version and the declarations). All of it runs in one transaction, so a failing file leaves the schema as it was.
 * Returns the versions applied now.
 */
export async function migrate(pool: pg.Pool, directory = MIGRATIONS_DIRECTORY): Promise<string[]> {
  const files = await listMigrationFiles(directory)
  return withTransaction(pool, async (client) => {
    // Two processes starting at once (API and worker) would otherwise both apply the same file.
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY])
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
    )
    const done = await client.query<{ version: string }>('SELECT version FROM schema_migrations')
    const applied = new Set(done.rows.map((row) => row.version))
    const appliedNow: string[] = []
    for (const file of files) {
      if (applied.has(file.version)) continue
      const sql = await readFile(`${directory}/${file.name}`, 'utf8')
      try {
        await client.query(sql)
      } catch (error) {
        throw new BookingDemoError(
          'BOOKING_ERR_MIGRATION',
          `${file.name} failed: ${(error as Error).message}`,
          {
            cause: error,
            details: { file: file.name },
          },
        )
      }
      await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [file.version])
      appliedNow.push(file.version)
    }
    if (directory === MIGRATIONS_DIRECTORY) {
      await client.query(outboxSql())
      await client.query(sagaStoreSql())
      await client.query(changeCapture.migrationSql({ source: 'triggers' }))
    }
    return appliedNow
  })
}

async function listMigrationFiles(directory: string): Promise<{ version: string; name: string }[]> {
  const names = (await readdir(directory)).filter((name) => name.endsWith('.sql')).sort()
  const seen = new Set<string>()
  return names.map((name) => {
    const version = FILE_NAME.exec(name)?.[1]
    if (version === undefined) {
      throw new BookingDemoError('BOOKING_ERR_MIGRATION', `${name} does not match NNN_lowercase_name.sql`, {
        details: { file: name },
      })
    }
    if (seen.has(version))
      throw new BookingDemoError('BOOKING_ERR_MIGRATION', `version ${version} is used twice`, {
        details: { file: name },
      })
    seen.add(version)
    return { version, name }
  })
}
