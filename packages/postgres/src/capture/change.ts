/** A captured row: the declared columns, each in PostgreSQL's text form (`'42'`, `'2026-01-12'`), or null. */
export type CapturedRow<Column extends string = string> = { readonly [K in Column]: string | null }

export type ChangeOperation = 'insert' | 'update' | 'delete' | 'truncate'

/** One committed change of a watched table, as both sources deliver it. */
export interface Change<Row extends CapturedRow = CapturedRow> {
  /**
   * Stable across redeliveries from the same source: the changes table's id (triggers), or the commit's
   * LSN and the change's place in its transaction (replication).
   */
  id: string
  /** The table, schema-qualified as declared: `public.appointments`. */
  table: string
  operation: ChangeOperation
  /** The row before the change (update, delete). */
  old: Row | undefined
  /** The row after the change (insert, update). */
  new: Row | undefined
  /** The writing transaction's id. */
  transaction: string
  /** Triggers: when the row changed (at most a transaction's length before its commit). Replication: the commit time. */
  changedAt: Date
}

/** What a listener calls for each change; a throw (or rejection) offers the change again later. */
export type ChangeHandler = (change: Change) => Promise<void> | void
