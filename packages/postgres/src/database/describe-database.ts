import type pg from 'pg'
import type { PostgresConnection } from './postgres-connection.js'

/**
 * Names a database for an error message or a log line, with the password replaced by `***`:
 * `postgres://app:***@db.internal:5432/bookings`. Something that is not a URL is not echoed back.
 */
export function describeDatabase(connection: PostgresConnection): string {
  if (typeof connection === 'string') return redactDatabaseUrl(connection)
  const config =
    (isPool(connection) ? (connection as unknown as { options: pg.PoolConfig }).options : connection) ?? {}
  if (typeof config.connectionString === 'string') return redactDatabaseUrl(config.connectionString)
  const auth =
    config.user === undefined ? '' : `${config.user}${config.password === undefined ? '' : ':***'}@`
  return `postgres://${auth}${config.host ?? 'localhost'}:${config.port ?? 5432}/${config.database ?? ''}`
}

/** A PostgreSQL URL with its password (and any `password` parameter) replaced by `***`. */
export function redactDatabaseUrl(url: string): string {
  if (!URL.canParse(url)) return '(an unparsable PostgreSQL URL)'
  const parsed = new URL(url)
  if (parsed.password !== '') parsed.password = '***'
  if (parsed.searchParams.has('password')) parsed.searchParams.set('password', '***')
  return parsed.toString()
}

export function isPool(connection: PostgresConnection): connection is pg.Pool {
  return typeof (connection as { connect?: unknown }).connect === 'function'
}
