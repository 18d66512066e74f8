import { EventEmitter } from 'node:events'
import { durationSchema } from '@cachesaga/common'
import { z } from 'zod'
import type { ChangeHandler } from '../capture/change.js'
import type { ChangeCapture } from '../capture/change-capture.js'
import type { Database } from '../database/database.js'
import { openDatabase } from '../database/open-database.js'
import { type DatabaseOptions, databaseOptionsShape } from '../database/postgres-connection.js'
import { PostgresError } from '../errors.js'
import { functionSchema, parseOptions } from '../parse-options.js'
import { WokenReader } from '../wakeup/woken-reader.js'
import { CHANGE_ROW_COLUMNS, type ChangeRow, changesTable, toChange } from './change-rows.js'
import { CheckpointStore } from './checkpoint-store.js'

export interface ChangeListenerOptions extends DatabaseOptions {
  /** The declaration whose migration (`source: 'triggers'`) is applied. */
  capture: ChangeCapture
  /**
   * Names the stored checkpoint: a listener restarted under the same name resumes where it stopped, and
   * pruning keeps every change it has not passed. Give each independent consumer its own name.
   */
  name: string
  /**
   * Handles one change; `invalidateOnChange({ cache, capture })` makes the usual one. Delivery is at least
   * once (after a restart, changes near the checkpoint come again). A change whose handler throws is
   * offered again on the next read, and nothing after it is skipped past.
   */
  onChange: ChangeHandler
  /** How often to read without a NOTIFY (retries, notifications missed while reconnecting). Default `'1s'`. */
  pollInterval?: number | string
  /** Changes read per statement while catching up. Default 500. */
  pageSize?: number
}

const optionsSchema = z.object({
  ...databaseOptionsShape,
  capture: z.custom<ChangeCapture>(
    (value) => typeof (value as ChangeCapture)?.targetsOf === 'function',
    'expected a ChangeCapture',
  ),
  name: z.string().min(1).max(200),
  onChange: functionSchema<ChangeHandler>(),
  pollInterval: durationSchema.default(1_000).refine((ms) => ms > 0, 'must be positive'),
  pageSize: z.number().int().positive().default(500),
})

/** Emitted events: `failure` for a lost connection, a failed read or a failed delivery; it keeps running. */
export interface ChangeListenerEvents {
  failure: [error: unknown]
}

/**
 * Delivers every committed change of the changes table to `onChange`, including those committed while it
 * was disconnected or stopped.
 *
 * Order: a change is delivered only after its transaction committed; a transaction's changes in the order
 * they were made; two changes of the same row in commit order (the second writer waited for the first's
 * commit before it could record its own change). Changes of unrelated transactions that became visible in
 * the same read come in the order they were recorded.
 *
 * The checkpoint is a transaction horizon, not a change id: ids are taken before commit, so a change with
 * a smaller id can commit after a larger one was delivered, and a horizon never passes a transaction that
 * was still running when the listener read.
 */
export class ChangeListener extends EventEmitter<ChangeListenerEvents> {
  private readonly options: z.output<typeof optionsSchema>
  private readonly database: Database
  private readonly reader: WokenReader
  private readonly checkpoints: CheckpointStore
  /** Every transaction older than this had finished at the last complete read. */
  private checkpoint: bigint | undefined
  /** Changes at or above the checkpoint already delivered, with their transaction, so a re-read skips them. */
  private readonly delivered = new Map<string, bigint>()

  constructor(options: ChangeListenerOptions) {
    super()
    this.options = parseOptions(optionsSchema, options, 'ChangeListenerOptions')
    this.database = openDatabase(this.options, `cachesaga-listener-${this.options.name}`)
    this.checkpoints = new CheckpointStore(this.database, this.options.capture.schema)
    this.reader = new WokenReader({
      database: this.database,
      channel: this.options.capture.channel,
      pollIntervalMs: this.options.pollInterval,
      read: () => this.deliverSinceCheckpoint(),
      onError: (error) => this.emit('failure', error),
    })
  }

  /**
   * Loads the stored checkpoint (a listener never seen before starts from now) and starts listening;
   * changes committed since the checkpoint are delivered right away. Rejects with `PG_ERR_NOT_INSTALLED`
   * when the migration is missing, `PG_ERR_UNREACHABLE` when the database is.
   */
  async start(): Promise<void> {
    this.checkpoint = await this.checkpoints.register(this.options.name)
    await this.reader.start()
  }

  /** Stops listening and waits for a delivery in progress; closes the pool if it opened one. */
  async stop(): Promise<void> {
    await this.reader.stop()
    await this.database.close()
  }

  /** Delivers what is pending now. Concurrent calls share one run; resolves with how many it delivered. */
  catchUp(): Promise<number> {
    return this.reader.readNow()
  }

  private async deliverSinceCheckpoint(): Promise<number> {
    const checkpoint = this.checkpoint
    if (checkpoint === undefined) return 0
    // The horizon of the first page bounds the whole read: a change a later page cannot see yet belongs to
    // a transaction that was running (or not begun) at that first snapshot, so its xid is at or above it.
    let horizon: bigint | undefined
    let afterId = '0'
    let deliveredNow = 0
    for (;;) {
      const { rows } = await this.database.query<{ horizon: string; changes: ChangeRow[] }>(
        `SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS horizon,
                coalesce((SELECT json_agg(c ORDER BY c.id::bigint)
                          FROM (SELECT ${CHANGE_ROW_COLUMNS} FROM ${changesTable(this.options.capture.schema)} change
                                WHERE change.xid >= $1::xid8 AND change.id > $2::bigint
                                ORDER BY change.id LIMIT $3) c), '[]') AS changes`,
        [checkpoint.toString(), afterId, this.options.pageSize],
      )
      const page = rows[0]!
      horizon ??= BigInt(page.horizon)
      for (const row of page.changes) {
        if (this.delivered.has(row.id)) continue
        try {
          await this.options.onChange(toChange(row))
        } catch (error) {
          // The checkpoint stays where it is, so the next read offers this change (and all after it) again.
          throw new PostgresError(
            'PG_ERR_DELIVERY_FAILED',
            `listener ${this.options.name}: change ${row.id} of ${row.table_name} was not handled: ${(error as Error)?.message ?? error}`,
            {
              cause: error,
              details: { listener: this.options.name, changeId: row.id, table: row.table_name },
            },
          )
        }
        this.delivered.set(row.id, BigInt(row.xid))
        deliveredNow++
      }
      if (page.changes.length < this.options.pageSize) break
      afterId = page.changes[page.changes.length - 1]!.id
    }
    await this.saveCheckpoint(horizon)
    return deliveredNow
  }

  private async saveCheckpoint(next: bigint): Promise<void> {
    if (this.checkpoint !== undefined && next <= this.checkpoint) return
    await this.checkpoints.advance(this.options.name, next)
    this.checkpoint = next
    // Rows below the checkpoint are never read again: nothing left to skip for them.
    for (const [id, xid] of this.delivered) if (xid < next) this.delivered.delete(id)
  }
}
