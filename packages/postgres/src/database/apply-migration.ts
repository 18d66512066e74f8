import { openDatabase } from './open-database.js'
import type { PostgresConnection } from './postgres-connection.js'

/**
 * Applies generated migration SQL in one transaction, on a pool opened for it. Concurrent installs (several
 * processes starting at once) take turns on an advisory lock per schema instead of failing on each other's catalog
 * updates.
 */
export async function applyMigration(
  connection: { database: PostgresConnection; connectTimeout: number; queryTimeout: number },
  schema: string,
  sql: string,
): Promise<void> {
  const database = openDatabase(connection, 'cachesaga-install')
  try {
    await database.transaction(async (client) => {
      await database.run(client, 'SELECT pg_advisory_xact_lock(hashtext($1))', [
        `cachesaga-install:${schema}`,
      ])
      await database.run(client, sql)
    })
  } finally {
    await database.close()
  }
}
