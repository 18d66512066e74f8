import { SagaError } from '@cachesaga/saga'
import type { Database } from '../database/database.js'
import { SAGA_TABLES } from './saga-store-sql.js'

/** What the store's own sessions run with, and the saga tables that are not logged. */
export interface DurabilitySettings {
  fsync: string
  synchronousCommit: string
  fullPageWrites: string
  unloggedTables: string[]
}

/** What a saga store needs, and why, for each setting that is wrong; empty when the settings are safe. */
export function durabilityProblems(settings: DurabilitySettings, schema: string): string[] {
  const problems: string[] = []
  if (settings.fsync !== 'on') {
    problems.push(
      `fsync is "${settings.fsync}": set fsync = on (without it an operating-system crash or a power cut can lose ` +
        'committed sagas, or corrupt the database)',
    )
  }
  if (settings.synchronousCommit === 'off') {
    problems.push(
      'synchronous_commit is "off" for the store\'s sessions: set it to on (or local, remote_write, remote_apply) ' +
        'in the server, or for the role or database the store uses (a crash of the server loses the last commits ' +
        'it acknowledged)',
    )
  }
  if (settings.fullPageWrites !== 'on') {
    problems.push(
      `full_page_writes is "${settings.fullPageWrites}": set full_page_writes = on (an operating-system crash can ` +
        'leave torn pages the database cannot recover)',
    )
  }
  for (const table of settings.unloggedTables) {
    problems.push(
      `table ${schema}.${table} is UNLOGGED: ALTER TABLE ${schema}.${table} SET LOGGED (a crash of the server ` +
        'empties an unlogged table)',
    )
  }
  return problems
}

/**
 * Reads, on one of the store's own connections, the settings that decide whether PostgreSQL keeps a commit it
 * acknowledged across a crash, and whether the saga tables are logged; rejects with SAGA_ERR_STORE_NOT_DURABLE
 * naming each problem. Any role may read these (`current_setting`, `pg_class`), so the check cannot be refused.
 * Not checked, because a setting cannot show it: a failover to an asynchronous standby losing its last commits, and
 * a disk that acknowledges writes it has not stored.
 */
export async function checkPostgresDurability(database: Database, schema: string): Promise<void> {
  const { rows } = await database.query<{
    fsync: string
    synchronous_commit: string
    full_page_writes: string
    unlogged: string[]
  }>(
    `SELECT current_setting('fsync') AS fsync,
       current_setting('synchronous_commit') AS synchronous_commit,
       current_setting('full_page_writes') AS full_page_writes,
       ARRAY(SELECT relation.relname::text FROM pg_class relation
         JOIN pg_namespace namespace ON namespace.oid = relation.relnamespace
         WHERE namespace.nspname = $1 AND relation.relname = ANY($2::text[]) AND relation.relpersistence = 'u'
         ORDER BY relation.relname) AS unlogged`,
    [schema, SAGA_TABLES],
  )
  const row = rows[0]!
  const problems = durabilityProblems(
    {
      fsync: row.fsync,
      synchronousCommit: row.synchronous_commit,
      fullPageWrites: row.full_page_writes,
      unloggedTables: row.unlogged,
    },
    schema,
  )
  if (problems.length === 0) return
  throw new SagaError(
    'SAGA_ERR_STORE_NOT_DURABLE',
    `PostgreSQL at ${database.name} can lose saga state (${problems.join('; ')}). Set this in the server's ` +
      'configuration, or pass requireDurableStore: false where losing sagas is acceptable (tests, demos)',
    { details: { target: database.name, problems } },
  )
}
