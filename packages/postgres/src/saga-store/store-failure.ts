import { errorCode } from '@cachesaga/common'
import { SagaError } from '@cachesaga/saga'
import { PostgresError } from '../errors.js'

/** `undefined_function`: a table may be there while a function of a newer migration is not. */
const UNDEFINED_FUNCTION = '42883'

/**
 * A failure of one of the store's own statements, coded: reaching the server is already a `PostgresError`
 * (PG_ERR_UNREACHABLE, PG_ERR_QUERY_TIMEOUT, PG_ERR_NOT_INSTALLED...); a missing function means the migration is
 * not (fully) applied; any other refusal by the server is SAGA_ERR_STORE_FAILED, as the Redis store reports a refused
 * command, with the SQLSTATE in `details`.
 */
export function storeFailure(error: unknown, database: string, schema: string): unknown {
  if (error instanceof PostgresError || error instanceof SagaError) return error
  const sqlState = errorCode(error)
  if (sqlState === UNDEFINED_FUNCTION) {
    return new PostgresError(
      'PG_ERR_NOT_INSTALLED',
      `a function of the saga store is missing in schema ${schema} of ${database}: apply sagaStoreSql() with your ` +
        'migration tool, or call installSagaStore()',
      { cause: error, details: { database, schema } },
    )
  }
  if (sqlState === undefined || !/^[0-9A-Z]{5}$/.test(sqlState)) return error
  return new SagaError(
    'SAGA_ERR_STORE_FAILED',
    `PostgreSQL at ${database} refused a statement of the saga store: ${(error as Error).message}`,
    { cause: error, details: { target: database, sqlState } },
  )
}

export function leaseLost(sagaId: string): SagaError {
  return new SagaError('SAGA_ERR_LEASE_LOST', `another runner took over saga "${sagaId}"`, {
    details: { sagaId },
  })
}
