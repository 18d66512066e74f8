import pg from 'pg'
import type { Database } from '../database/database.js'

/**
 * The listeners' checkpoints in `<schema>.listener_checkpoints`, the only code that writes them. A
 * checkpoint is a transaction horizon: every transaction older than it had finished when its listener last
 * read everything, so that listener never needs a change below it again (and pruning may remove those).
 */
export class CheckpointStore {
  private readonly table: string

  constructor(
    private readonly database: Database,
    schema: string,
  ) {
    this.table = `${pg.escapeIdentifier(schema)}.listener_checkpoints`
  }

  /** The stored horizon of `listener`; a listener seen for the first time is registered at the current one. */
  async register(listener: string): Promise<bigint> {
    const { rows } = await this.database.query<{ horizon: string }>(
      `WITH registered AS (
         INSERT INTO ${this.table} (listener, horizon)
         VALUES ($1, pg_snapshot_xmin(pg_current_snapshot()))
         ON CONFLICT (listener) DO NOTHING
         RETURNING horizon)
       SELECT horizon::text FROM registered
       UNION ALL SELECT horizon::text FROM ${this.table} WHERE listener = $1`,
      [listener],
    )
    return BigInt(rows[0]!.horizon)
  }

  /** Moves `listener`'s horizon forward to `horizon` (never back, whoever else writes it). */
  async advance(listener: string, horizon: bigint): Promise<void> {
    await this.database.query(
      `UPDATE ${this.table} SET horizon = $2::xid8, updated_at = now()
       WHERE listener = $1 AND horizon < $2::xid8`,
      [listener, horizon.toString()],
    )
  }

  /** Unregisters `listener`; resolves with whether it was registered. */
  async forget(listener: string): Promise<boolean> {
    const { rowCount } = await this.database.query(`DELETE FROM ${this.table} WHERE listener = $1`, [
      listener,
    ])
    return (rowCount ?? 0) > 0
  }
}
