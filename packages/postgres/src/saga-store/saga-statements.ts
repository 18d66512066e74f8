import { FINAL_STATES } from '@cachesaga/saga'
import pg from 'pg'

/**
 * Every statement of the saga store, for one schema: the only code that knows the argument positions of the
 * migration's functions (`saga-store-sql.ts`). A duration argument is in milliseconds.
 */
export function sagaStatements(schema: string) {
  const s = pg.escapeIdentifier(schema)
  const final = FINAL_STATES.map((state) => pg.escapeLiteral(state)).join(', ')
  return {
    /** Whether the migration was applied: its newest function exists. */
    installed: `SELECT to_regprocedure(${pg.escapeLiteral(`${s}.saga_decide(text,text,text,text,text)`)}) IS NOT NULL AS installed`,
    /** $1 id, $2 token, $3 lease ms, $4 name (NULL: take over only), $5 input json, $6 changes json (or NULL). */
    acquire: `SELECT ${s}.saga_acquire($1, $2, $3, $4, $5, $6) AS acquired`,
    /** $1 id, $2 token, $3 lease ms. */
    renewLease: `UPDATE ${s}.sagas SET lease_until = clock_timestamp() + $3::double precision * interval '1 millisecond'
      WHERE saga_id = $1 AND owner = $2`,
    /** $1 id, $2 token, $3 changes json. */
    advance: `SELECT ${s}.saga_advance($1, $2, $3) AS applied`,
    /**
     * The first statement of a step's transaction ($1 id, $2 token): whether the token holds the lease, and the backend
     * that runs the transaction (to end it if the step times out in the middle of a statement).
     */
    openStep: `SELECT pg_backend_pid() AS pid,
      EXISTS (SELECT 1 FROM ${s}.sagas WHERE saga_id = $1 AND owner = $2) AS holds`,
    /**
     * The completion of a step inside its transaction ($1 id, $2 token, $3 changes json), with the transaction's id:
     * what settles a COMMIT that got no answer.
     */
    advanceInStep: `SELECT ${s}.saga_advance($1, $2, $3) AS applied, pg_current_xact_id()::text AS xid`,
    /** $1 pid: ends the backend of a step's transaction that timed out (the rollback, at once). */
    endStep: 'SELECT pg_terminate_backend($1)',
    /** $1 id, $2 decision, $3 step (skip), $4 actor, $5 note. */
    decide: `SELECT ${s}.saga_decide($1, $2, $3, $4, $5) AS decided`,
    /** $1 id. */
    load: `SELECT ${s}.saga_record($1) AS record`,
    /** $1 id. */
    readLog: `SELECT floor(extract(epoch FROM at) * 1000)::bigint AS at, event, step, attempt, state, error, actor, note
      FROM ${s}.saga_log WHERE saga_id = $1 ORDER BY id`,
    /** $1 state. */
    listByState: `SELECT saga_id FROM ${s}.sagas WHERE state = $1`,
    /**
     * $1 limit. Rows locked at this moment (a saga being written, or being claimed by another sweep) are skipped
     * rather than waited for: their holder is alive, or another runner is taking them.
     */
    expiredLeases: `SELECT saga_id, name FROM ${s}.sagas
      WHERE state IN ('running', 'compensating') AND lease_until <= clock_timestamp()
      ORDER BY lease_until LIMIT $1 FOR UPDATE SKIP LOCKED`,
    /** $1 retention ms, $2 limit: deletes the sagas, their phases and their logs together. */
    forgetFinished: `WITH forgotten AS (
        SELECT saga_id FROM ${s}.sagas
        WHERE finished_at <= clock_timestamp() - $1::double precision * interval '1 millisecond'
          AND state IN (${final})
        ORDER BY finished_at LIMIT $2 FOR UPDATE SKIP LOCKED
      ), phases AS (
        DELETE FROM ${s}.saga_phases WHERE saga_id IN (SELECT saga_id FROM forgotten)
      ), log AS (
        DELETE FROM ${s}.saga_log WHERE saga_id IN (SELECT saga_id FROM forgotten)
      )
      DELETE FROM ${s}.sagas WHERE saga_id IN (SELECT saga_id FROM forgotten)`,
    /** $1 job id, $2 job json. */
    scheduleRetry: `INSERT INTO ${s}.saga_invalidation_retries (id, job, due_at) VALUES ($1, $2, clock_timestamp())
      ON CONFLICT (id) DO NOTHING`,
    /** $1 limit, $2 ms to hide each claimed job for. */
    claimRetries: `UPDATE ${s}.saga_invalidation_retries
      SET due_at = clock_timestamp() + $2::double precision * interval '1 millisecond'
      WHERE id IN (SELECT id FROM ${s}.saga_invalidation_retries WHERE due_at <= clock_timestamp()
        ORDER BY due_at LIMIT $1 FOR UPDATE SKIP LOCKED)
      RETURNING job`,
    /** $1 job id. */
    ackRetry: `DELETE FROM ${s}.saga_invalidation_retries WHERE id = $1`,
  }
}

export type SagaStatements = ReturnType<typeof sagaStatements>
