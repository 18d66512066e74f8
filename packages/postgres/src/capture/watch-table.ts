import type { InvalidationTarget } from '@cachesaga/core'
import { PostgresError } from '../errors.js'
import type { CapturedRow, Change } from './change.js'
import { parseTableName, quoteColumn, type TableName } from './table-name.js'

export interface WatchTableOptions<Column extends string> {
  /**
   * The columns the mapping reads: only these are captured (as text), so rows stay small and `targets`
   * is typed by them. Name every column any target depends on (say `staff_id` and `day`, not just `id`).
   */
  columns: readonly Column[]
  /**
   * What a version of a row invalidates. It is called with the old row and with the new row of a change
   * (an update calls it twice), and the targets are merged, so a booking moved from Monday to Tuesday
   * invalidates both days. Return undefined for a row that invalidates nothing.
   */
  targets: (row: CapturedRow<Column>, change: Change<CapturedRow<Column>>) => InvalidationTarget | undefined
  /** What a `TRUNCATE` of the table invalidates. Without it a truncate is delivered but invalidates nothing. */
  truncated?: InvalidationTarget
}

/** One watched table, as `watchTable` checked it. */
export interface TableDeclaration<Column extends string = string> {
  readonly name: TableName
  readonly columns: readonly Column[]
  /** The columns quoted for SQL, in the order of `columns`. */
  readonly quotedColumns: readonly string[]
  readonly targets: WatchTableOptions<Column>['targets']
  readonly truncated: InvalidationTarget | undefined
}

/**
 * Declares a table to watch and how its changes map to invalidation targets:
 * `watchTable('public.appointments', { columns: ['id', 'doctor_id', 'day'], targets: (row) => ({ tags: [...] }) })`.
 */
export function watchTable<const Column extends string>(
  table: string,
  options: WatchTableOptions<Column>,
): TableDeclaration<Column> {
  const name = parseTableName(table)
  if (!Array.isArray(options.columns) || options.columns.length === 0) {
    throw new PostgresError(
      'PG_ERR_INVALID_DECLARATION',
      `table ${name.qualified}: columns must name at least one column`,
      {
        details: { table: name.qualified },
      },
    )
  }
  if (new Set(options.columns).size !== options.columns.length) {
    throw new PostgresError(
      'PG_ERR_INVALID_DECLARATION',
      `table ${name.qualified}: a column is named twice`,
      {
        details: { table: name.qualified },
      },
    )
  }
  if (typeof options.targets !== 'function') {
    throw new PostgresError(
      'PG_ERR_INVALID_DECLARATION',
      `table ${name.qualified}: targets must be a function`,
      {
        details: { table: name.qualified },
      },
    )
  }
  return {
    name,
    columns: options.columns,
    quotedColumns: options.columns.map((column) => quoteColumn(name.qualified, column)),
    targets: options.targets,
    truncated: options.truncated,
  }
}
