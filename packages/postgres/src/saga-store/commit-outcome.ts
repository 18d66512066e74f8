import { setTimeout as sleep } from 'node:timers/promises'
import type { Database } from '../database/database.js'

/** A transaction that sent COMMIT: its id and the backend that ran it. */
export interface CommittingTransaction {
  /** `pg_current_xact_id()` as text. */
  xid: string
  /** `pg_backend_pid()`. */
  pid: number
}

export type CommitOutcome =
  | { outcome: 'committed' }
  | { outcome: 'aborted' }
  /** PostgreSQL could not be asked, or did not settle it in time; `reason` says which. */
  | { outcome: 'unknown'; reason: string; cause?: unknown }

/** How often the status is read again while the transaction is still in progress. */
const POLL_MS = 20

/**
 * The outcome of a transaction whose COMMIT got no answer (the connection broke, or the reply did not come within the
 * query timeout). It committed or it did not, and PostgreSQL knows which: `pg_xact_status`, read on another
 * connection. A backend still running the transaction (a slow commit, or one that never received the COMMIT behind a
 * dead network) gets half the query timeout to finish by itself; then it is terminated, only if it still runs that
 * same transaction, which settles it (a transaction is aborted unless its commit record was already written).
 * Bounded by the query timeout; `unknown` past it, or when the server cannot be asked.
 */
export async function commitOutcome(
  database: Database,
  transaction: CommittingTransaction,
): Promise<CommitOutcome> {
  const { queryTimeoutMs } = database.settings
  const started = Date.now()
  let terminated = false
  try {
    for (;;) {
      const { rows } = await database.query<{ status: string | null }>(
        'SELECT pg_xact_status($1::xid8) AS status',
        [transaction.xid],
      )
      const status = rows[0]?.status ?? null
      if (status === 'committed') return { outcome: 'committed' }
      if (status === 'aborted') return { outcome: 'aborted' }
      if (status === null) {
        return { outcome: 'unknown', reason: `PostgreSQL no longer knows transaction ${transaction.xid}` }
      }
      const waited = Date.now() - started
      if (waited > queryTimeoutMs) {
        return {
          outcome: 'unknown',
          reason: `transaction ${transaction.xid} was still in progress after ${queryTimeoutMs} ms`,
        }
      }
      if (!terminated && waited >= queryTimeoutMs / 2) {
        // backend_xid is the 32-bit xid: the low half of the xid8.
        await database.query(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
           WHERE pid = $1 AND backend_xid::text = ($2::xid8::text::numeric % 4294967296)::text`,
          [transaction.pid, transaction.xid],
        )
        terminated = true
      }
      await sleep(POLL_MS)
    }
  } catch (error) {
    return {
      outcome: 'unknown',
      reason: `the status of transaction ${transaction.xid} could not be read: ${(error as Error).message}`,
      cause: error,
    }
  }
}
