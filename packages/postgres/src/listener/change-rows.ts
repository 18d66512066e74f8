import pg from 'pg'
import type { CapturedRow, Change, ChangeOperation } from '../capture/change.js'

/** A row of the changes table as the readers select it (ids and transaction ids as text: they are 64-bit). */
export interface ChangeRow {
  id: string
  xid: string
  table_name: string
  operation: ChangeOperation
  old_row: CapturedRow | null
  new_row: CapturedRow | null
  changed_at: string
}

/**
 * The select list that produces a `ChangeRow`, over the changes table aliased `change` (an ORDER BY must
 * name `change.id`: a bare `id` would sort the text alias).
 */
export const CHANGE_ROW_COLUMNS =
  'change.id::text AS id, change.xid::text AS xid, change.table_name, change.operation, change.old_row, change.new_row, change.changed_at'

export function changesTable(schema: string): string {
  return `${pg.escapeIdentifier(schema)}.changes`
}

export function toChange(row: ChangeRow): Change {
  return {
    id: row.id,
    table: row.table_name,
    operation: row.operation,
    old: row.old_row ?? undefined,
    new: row.new_row ?? undefined,
    transaction: row.xid,
    changedAt: new Date(row.changed_at),
  }
}
