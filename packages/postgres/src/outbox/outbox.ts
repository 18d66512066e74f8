import pg from 'pg'
import { z } from 'zod'
import { applyMigration } from '../database/apply-migration.js'
import { type DatabaseOptions, databaseOptionsShape } from '../database/postgres-connection.js'
import { identifierSchema, parseOptions } from '../parse-options.js'
import { outboxMigrationSql } from './outbox-sql.js'
import { currentTraceCarrier } from './outbox-trace.js'

export interface OutboxSchemaOptions {
  /** The schema that holds the outbox. Default `cachesaga`. */
  schema?: string
}

/** Anything that runs a statement: the `pg.PoolClient` of the app's transaction, typically. */
export interface Queryable {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>
}

const schemaOptions = z.object({ schema: identifierSchema.default('cachesaga') })

/** The outbox's migration, for the app's own migration tool. Applying it again is harmless. */
export function outboxSql(options: OutboxSchemaOptions = {}): string {
  return outboxMigrationSql(parseOptions(schemaOptions, options, 'OutboxSchemaOptions').schema)
}

/** Applies the outbox's migration in one transaction. */
export async function installOutbox(options: DatabaseOptions & OutboxSchemaOptions): Promise<void> {
  const parsed = parseOptions(
    z.object({ ...databaseOptionsShape, ...schemaOptions.shape }),
    options,
    'InstallOutboxOptions',
  )
  await applyMigration(parsed, parsed.schema, outboxMigrationSql(parsed.schema))
}

/**
 * Records `events` for the relay; call it inside the transaction that makes them true, so they are
 * committed exactly when the change is (and survive a crash right after the commit). Resolves with their
 * outbox ids, in order. Give each event a stable id of its own (the queue deduplicates on it): a relay that
 * dies between dispatching and marking a batch leaves it to be dispatched again. While the app traces, the
 * current trace context is recorded with them, and the relay dispatches them in it (see outbox-trace.ts).
 */
export async function appendToOutbox<Event>(
  transaction: Queryable,
  events: readonly Event[],
  options: OutboxSchemaOptions = {},
): Promise<string[]> {
  if (events.length === 0) return []
  const { schema } = parseOptions(schemaOptions, options, 'OutboxSchemaOptions')
  const { rows } = await transaction.query(
    `INSERT INTO ${pg.escapeIdentifier(schema)}.outbox (event, trace)
     SELECT event, $2::jsonb FROM unnest($1::jsonb[]) WITH ORDINALITY AS appended (event, position) ORDER BY position
     RETURNING id::text`,
    [events.map((event) => JSON.stringify(event)), currentTraceCarrier()],
  )
  return (rows as { id: string }[]).map((row) => row.id)
}
