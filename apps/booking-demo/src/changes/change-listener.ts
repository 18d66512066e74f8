import { EventEmitter } from 'node:events'
import type pg from 'pg'
import { z } from 'zod'
import { poolSchema } from '../db/pool-schema.js'
import { WokenReader } from '../db/woken-reader.js'
import { parseInput } from '../parse-input.js'

/** One edit of staff, a service or a schedule, as recorded by the `record_change` trigger. */
export interface Change {
  id: string
  tenantId: string
  entity: 'staff' | 'service' | 'schedule'
  entityId: string
  /** The staff member whose availability the edit affects; null for a service, which affects the whole tenant. */
  staffId: string | null
  operation: 'insert' | 'update' | 'delete'
  changedAt: Date
}

export interface ChangeListenerOptions {
  /** Reads the changes table through it; one of its connections is held for `LISTEN`. */
  pool: pg.Pool
  /** Names the stored checkpoint: a listener restarted under the same name resumes where it stopped. */
  name: string
  /**
   * Handles one change. Delivery is at least once (after a restart, changes near the checkpoint come
   * again), which suits invalidation. A change whose handler throws is offered again on the next wake.
   */
  onChange: (change: Change) => Promise<void> | void
  /** How often to read the table without a NOTIFY (to retry a change whose handler threw). Default 1000 ms. */
  pollIntervalMs?: number
}

const optionsSchema = z.object({
  pool: poolSchema,
  name: z.string().min(1),
  onChange: z.custom<ChangeListenerOptions['onChange']>((value) => typeof value === 'function', 'a function'),
  pollIntervalMs: z.number().int().positive().default(1_000),
})

interface ChangeRow {
  id: string
  xid: string
  tenant_id: string
  entity: Change['entity']
  entity_id: string
  staff_id: string | null
  operation: Change['operation']
  changed_at: string
}

/** Emitted events: `failure` for a lost connection, a failed read or a handler that threw; it keeps running. */
export interface ChangeListenerEvents {
  failure: [error: Error]
}

/**
 * Delivers every committed change to `onChange` (in id order within a read), including changes made while it was
 * disconnected or stopped. The checkpoint is a transaction horizon, not a change id: ids are taken
 * before commit, so a change with a smaller id can commit after a larger one has been read.
 */
export class ChangeListener extends EventEmitter<ChangeListenerEvents> {
  private readonly options: z.output<typeof optionsSchema>
  private readonly reader: WokenReader
  /** Every transaction older than this had finished at the last read. */
  private checkpoint: bigint | undefined
  /** Changes at or above the checkpoint already delivered, with their transaction, so a re-read skips them. */
  private readonly delivered = new Map<string, bigint>()

  constructor(options: ChangeListenerOptions) {
    super()
    this.options = parseInput(optionsSchema, options, 'ChangeListenerOptions')
    this.reader = new WokenReader({
      pool: this.options.pool,
      channel: 'booking_changes',
      pollIntervalMs: this.options.pollIntervalMs,
      read: () => this.deliverSinceCheckpoint(),
      onError: (error) => this.emit('failure', error),
    })
  }

  /**
   * Loads the stored checkpoint (a listener seen for the first time starts from now) and starts listening;
   * changes committed since the checkpoint are delivered right away.
   */
  async start(): Promise<void> {
    const { rows } = await this.options.pool.query<{ horizon: string }>(
      `INSERT INTO change_listener_checkpoints (listener, horizon)
       VALUES ($1, pg_snapshot_xmin(pg_current_snapshot()))
       ON CONFLICT (listener) DO UPDATE SET horizon = change_listener_checkpoints.horizon
       RETURNING horizon::text`,
      [this.options.name],
    )
    this.checkpoint = BigInt(rows[0]!.horizon)
    await this.reader.start()
  }

  async stop(): Promise<void> {
    await this.reader.stop()
  }

  /** Delivers the changes not delivered yet. Concurrent calls share one run; resolves with how many it delivered. */
  catchUp(): Promise<number> {
    return this.reader.readNow()
  }

  private async deliverSinceCheckpoint(): Promise<number> {
    const checkpoint = this.checkpoint
    if (checkpoint === undefined) return 0
    // One statement, one snapshot: every change of a transaction below `horizon` is visible to this read.
    const { rows } = await this.options.pool.query<{ horizon: string; changes: ChangeRow[] }>(
      `SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS horizon,
              coalesce((SELECT json_agg(c ORDER BY c.id)
                        FROM (SELECT id::text, xid::text, tenant_id, entity, entity_id, staff_id, operation, changed_at
                              FROM changes WHERE xid >= $1::xid8) c), '[]') AS changes`,
      [checkpoint.toString()],
    )
    const { horizon, changes } = rows[0]!
    let next = BigInt(horizon)
    let deliveredNow = 0
    for (const [index, row] of changes.entries()) {
      if (this.delivered.has(row.id)) continue
      try {
        await this.options.onChange(toChange(row))
      } catch (error) {
        // Keep the checkpoint below every change not delivered yet, so the next read offers them again.
        for (const pending of changes.slice(index)) {
          const xid = BigInt(pending.xid)
          if (xid < next) next = xid
        }
        this.emit('failure', error as Error)
        break
      }
      this.delivered.set(row.id, BigInt(row.xid))
      deliveredNow++
    }
    await this.saveCheckpoint(next)
    return deliveredNow
  }

  private async saveCheckpoint(next: bigint): Promise<void> {
    if (this.checkpoint !== undefined && next <= this.checkpoint) return
    await this.options.pool.query(
      'UPDATE change_listener_checkpoints SET horizon = $2::xid8 WHERE listener = $1 AND horizon < $2::xid8',
      [this.options.name, next.toString()],
    )
    this.checkpoint = next
    // Rows below the checkpoint are never read again, so there is nothing left to skip for them.
    for (const [id, xid] of this.delivered) if (xid < next) this.delivered.delete(id)
  }
}

function toChange(row: ChangeRow): Change {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    entity: row.entity,
    entityId: row.entity_id,
    staffId: row.staff_id,
    operation: row.operation,
    changedAt: new Date(row.changed_at),
  }
}
