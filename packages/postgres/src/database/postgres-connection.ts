import { durationSchema } from '@cachesaga/common'
import type pg from 'pg'
import { z } from 'zod'

/**
 * How a component reaches PostgreSQL: a URL (`postgres://user:pass@host:5432/db`), `pg` pool options, or a
 * `pg.Pool` the app already has. From a URL or options the component opens (and later closes) a pool of its
 * own; a pool passed in is used as is and never closed.
 */
export type PostgresConnection = string | pg.PoolConfig | pg.Pool

/** Every component that talks to PostgreSQL takes these. */
export interface DatabaseOptions {
  /** Where the database is; see `PostgresConnection`. */
  database: PostgresConnection
  /** How long to wait for a connection (a new one, or one from a busy pool). Default `'10s'`. */
  connectTimeout?: number | string
  /** How long one statement may take before it fails with `PG_ERR_QUERY_TIMEOUT`. Default `'30s'`. */
  queryTimeout?: number | string
}

const connectionSchema = z.custom<PostgresConnection>(
  (value) =>
    (typeof value === 'string' && /^postgres(ql)?:\/\//.test(value)) ||
    (typeof value === 'object' && value !== null && !Array.isArray(value)),
  'expected a postgres:// URL, pg pool options or a pg.Pool',
)

/** The zod shape of `DatabaseOptions`, spread into each component's options schema. */
export const databaseOptionsShape = {
  database: connectionSchema,
  connectTimeout: durationSchema.default(10_000),
  queryTimeout: durationSchema.default(30_000),
}
