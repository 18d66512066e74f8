import { Database } from './database.js'
import type { PostgresConnection } from './postgres-connection.js'

/** Opens (or borrows) the database of a component whose options were parsed with `databaseOptionsShape`. */
export function openDatabase(
  options: { database: PostgresConnection; connectTimeout: number; queryTimeout: number },
  applicationName: string,
): Database {
  return new Database(options.database, {
    connectTimeoutMs: options.connectTimeout,
    queryTimeoutMs: options.queryTimeout,
    applicationName,
  })
}
