import pg from 'pg'
import { PostgresError } from '../errors.js'

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/

/** A table named `schema.table` (or `table`, in `public`), checked and quoted once for every SQL that names it. */
export interface TableName {
  /** `public.appointments`: how changes name their table. */
  readonly qualified: string
  readonly schema: string
  readonly table: string
  /** `"public"."appointments"`, for SQL. */
  readonly sql: string
}

export function parseTableName(name: string): TableName {
  const parts = name.split('.')
  const [schema, table] = parts.length === 1 ? ['public', parts[0]!] : parts
  if (parts.length > 2 || !IDENTIFIER.test(schema ?? '') || !IDENTIFIER.test(table ?? '')) {
    throw new PostgresError(
      'PG_ERR_INVALID_DECLARATION',
      `table ${JSON.stringify(name)}: expected 'table' or 'schema.table', each an unquoted identifier`,
      { details: { table: name } },
    )
  }
  return {
    qualified: `${schema}.${table}`,
    schema: schema!,
    table: table!,
    sql: `${pg.escapeIdentifier(schema!)}.${pg.escapeIdentifier(table!)}`,
  }
}

/** Checks a column name the way table names are checked; returns it quoted for SQL. */
export function quoteColumn(table: string, column: string): string {
  if (!IDENTIFIER.test(column)) {
    throw new PostgresError(
      'PG_ERR_INVALID_DECLARATION',
      `table ${table}: column ${JSON.stringify(column)} is not an unquoted identifier`,
      { details: { table, column } },
    )
  }
  return pg.escapeIdentifier(column)
}
