import { errorCode } from '@cachesaga/common'
import pg from 'pg'
import { PostgresError } from '../errors.js'
import { describeDatabase, isPool } from './describe-database.js'
import type { PostgresConnection } from './postgres-connection.js'

export interface DatabaseSettings {
  connectTimeoutMs: number
  queryTimeoutMs: number
  /** Names this component's connections in `pg_stat_activity` (pools it opens itself only). */
  applicationName: string
}

/** `undefined_table`, `invalid_schema_name`: the package's migration was not applied (see `PG_ERR_NOT_INSTALLED`). */
const NOT_INSTALLED = new Set(['42P01', '3F000'])
/** Errors that mean the server or the connection went away, not that the statement was wrong. */
const CONNECTION_LOST = new Set(['57P01', '57P02', '57P03', 'ECONNRESET', 'EPIPE', '08006', '08003'])
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ETIMEDOUT', 'EAI_AGAIN', '28P01'])

/**
 * The one way this package talks to PostgreSQL: every connect and every statement has a deadline, and a
 * failure to reach the server or to get an answer becomes a coded `PostgresError` naming the database
 * (password redacted). A pool the app passed in is borrowed, never closed.
 */
export class Database {
  /** The database, password redacted, for messages and logs. */
  readonly name: string
  readonly pool: pg.Pool
  private readonly owned: boolean
  private closed = false

  constructor(
    private readonly connection: PostgresConnection,
    readonly settings: DatabaseSettings,
  ) {
    this.name = describeDatabase(connection)
    if (isPool(connection)) {
      this.pool = connection
      this.owned = false
    } else {
      const config = typeof connection === 'string' ? { connectionString: connection } : connection
      this.pool = new pg.Pool({
        application_name: settings.applicationName,
        ...config,
        connectionTimeoutMillis: settings.connectTimeoutMs,
      })
      // An idle pooled connection that dies (a restart, pg_terminate_backend) is replaced on next use.
      this.pool.on('error', () => {})
      this.owned = true
    }
  }

  /** Settings for a connection of its own outside the pool (a replication stream). */
  clientConfig(): pg.ClientConfig {
    const base: pg.ClientConfig = isPool(this.connection)
      ? { ...(this.connection as unknown as { options: pg.PoolConfig }).options }
      : typeof this.connection === 'string'
        ? { connectionString: this.connection }
        : { ...this.connection }
    return {
      application_name: this.settings.applicationName,
      ...base,
      connectionTimeoutMillis: this.settings.connectTimeoutMs,
    }
  }

  /** A pooled connection, within the connect timeout. The caller releases it (`release(true)` if broken). */
  async connect(): Promise<pg.PoolClient> {
    const { connectTimeoutMs } = this.settings
    let timer: NodeJS.Timeout | undefined
    let timedOut = false
    const connecting = this.pool.connect()
    try {
      return await Promise.race([
        connecting,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            timedOut = true
            reject(new Error(`no connection within ${connectTimeoutMs} ms`))
          }, connectTimeoutMs)
        }),
      ])
    } catch (error) {
      // A connection that arrives after we gave up goes back to the pool instead of leaking.
      if (timedOut)
        connecting.then(
          (late) => late.release(),
          () => {},
        )
      throw this.unreachable(error)
    } finally {
      clearTimeout(timer)
    }
  }

  /** One statement on a pooled connection, bounded by the connect and query timeouts. */
  async query<Row extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    values?: unknown[],
  ): Promise<pg.QueryResult<Row>> {
    const client = await this.connect()
    try {
      const result = await this.run<Row>(client, text, values)
      client.release()
      return result
    } catch (error) {
      // A timed-out statement may still run on that connection: destroy it, which also cancels it.
      client.release(isStatementError(error) ? undefined : true)
      throw error
    }
  }

  /** One statement on a connection the caller holds, bounded by the query timeout. */
  async run<Row extends pg.QueryResultRow = pg.QueryResultRow>(
    client: pg.ClientBase,
    text: string,
    values?: unknown[],
  ): Promise<pg.QueryResult<Row>> {
    try {
      return await client.query<Row>({
        text,
        values,
        query_timeout: this.settings.queryTimeoutMs,
      } as pg.QueryConfig)
    } catch (error) {
      throw this.classify(error)
    }
  }

  /**
   * Runs `work` in one transaction: committed if it resolves, rolled back if it throws. A connection that
   * broke on the way is destroyed, never returned to the pool.
   */
  async transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.connect()
    // A connection that dies while `work` awaits something else would otherwise throw from an event
    // handler and end the process; the next statement reports the loss instead.
    const ignore = () => {}
    client.on('error', ignore)
    try {
      await this.run(client, 'BEGIN')
      const result = await work(client)
      await this.run(client, 'COMMIT')
      client.off('error', ignore)
      client.release()
      return result
    } catch (error) {
      const rolledBack = await this.run(client, 'ROLLBACK').then(
        () => true,
        () => false,
      )
      client.off('error', ignore)
      client.release(rolledBack ? undefined : true)
      throw error
    }
  }

  /** Ends the pool if this component opened it. */
  async close(): Promise<void> {
    if (!this.owned || this.closed) return
    this.closed = true
    await this.pool.end()
  }

  /** What went wrong with a statement, as a coded error when it is about reaching the server. */
  classify(error: unknown): unknown {
    if (error instanceof PostgresError) return error
    const message = error instanceof Error ? error.message : String(error)
    const code = errorCode(error)
    if (message === 'Query read timeout') {
      return new PostgresError(
        'PG_ERR_QUERY_TIMEOUT',
        `PostgreSQL at ${this.name} did not answer a statement within ${this.settings.queryTimeoutMs} ms`,
        { cause: error, details: { database: this.name, timeoutMs: this.settings.queryTimeoutMs } },
      )
    }
    if (code !== undefined && NOT_INSTALLED.has(code)) {
      return new PostgresError(
        'PG_ERR_NOT_INSTALLED',
        `a table of @cachesaga/postgres is missing in ${this.name} (${message}): apply the generated migration first`,
        { cause: error, details: { database: this.name } },
      )
    }
    if ((code !== undefined && CONNECTION_LOST.has(code)) || /Connection terminated/i.test(message)) {
      return new PostgresError(
        'PG_ERR_CONNECTION_LOST',
        `the connection to ${this.name} was lost: ${message}`,
        {
          cause: error,
          details: { database: this.name },
        },
      )
    }
    if (code !== undefined && UNREACHABLE.has(code)) return this.unreachable(error)
    return error
  }

  private unreachable(error: unknown): PostgresError {
    if (error instanceof PostgresError) return error
    const reason = error instanceof Error ? error.message : String(error)
    return new PostgresError(
      'PG_ERR_UNREACHABLE',
      `PostgreSQL at ${this.name} gave no connection within ${this.settings.connectTimeoutMs} ms: ${reason}`,
      { cause: error, details: { database: this.name, timeoutMs: this.settings.connectTimeoutMs } },
    )
  }
}

/** True for an error PostgreSQL answered about the statement itself: the connection is fine and reusable. */
function isStatementError(error: unknown): boolean {
  const cause = error instanceof PostgresError ? error.cause : error
  const code = errorCode(cause)
  return code !== undefined && /^[0-9A-Z]{5}$/.test(code) && !CONNECTION_LOST.has(code)
}
