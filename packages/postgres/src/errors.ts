import { CachesagaError } from '@cachesaga/common'

/** Stable codes a person can search for; each names one failure of this package (see the README). */
export type PostgresErrorCode =
  /** An option did not parse; the message names the field. */
  | 'PG_ERR_INVALID_OPTIONS'
  /** A table declaration is unusable (an unsafe name, no columns, a table declared twice). */
  | 'PG_ERR_INVALID_DECLARATION'
  /** No connection to PostgreSQL within the connect timeout, or it was refused. */
  | 'PG_ERR_UNREACHABLE'
  /** A statement did not answer within the query timeout. */
  | 'PG_ERR_QUERY_TIMEOUT'
  /** The package's tables are missing: apply the generated migration first. */
  | 'PG_ERR_NOT_INSTALLED'
  /** A connection this package held open (LISTEN, a replication stream) was lost; it reconnects. */
  | 'PG_ERR_CONNECTION_LOST'
  /** The change handler threw or the cache reported a failed invalidation; the change is offered again. */
  | 'PG_ERR_DELIVERY_FAILED'
  /** The relay's dispatcher threw; the batch stays in the outbox for the next run. */
  | 'PG_ERR_DISPATCH_FAILED'
  /** Logical replication is impossible here: `wal_level` is not `logical`, or the slot is in use or lost. */
  | 'PG_ERR_REPLICATION_UNAVAILABLE'
  /** A replay after a Redis restart could not read the changes table or apply an invalidation. */
  | 'PG_ERR_REPLAY_FAILED'

/** The one error class of @cachesaga/postgres; switch on `code`, read `details.database` for the server. */
export class PostgresError extends CachesagaError<PostgresErrorCode> {
  override name = 'PostgresError'
}
