import { EventEmitter } from 'node:events'
import type pg from 'pg'
import { z } from 'zod'
import { parseInput } from '../parse-input.js'
import { poolSchema } from './pool-schema.js'

export interface HistoryPrunerOptions {
  pool: pg.Pool
  /** Rows younger than this stay, for an operator to look back on. Default 7 days. */
  retentionMs?: number
  /** How often `start()` prunes. Default one hour. */
  everyMs?: number
  /** Rows deleted per statement, so no prune holds locks on a large table for long. Default 1000. */
  batchSize?: number
}

const optionsSchema = z.object({
  pool: poolSchema,
  retentionMs: z
    .number()
    .int()
    .positive()
    .default(7 * 24 * 60 * 60 * 1000),
  everyMs: z
    .number()
    .int()
    .positive()
    .default(60 * 60 * 1000),
  batchSize: z.number().int().positive().default(1_000),
})

/** How many rows one prune removed. */
export interface PruneResult {
  outbox: number
  changes: number
}

/** Emitted events: `failure` for a prune that failed (the next one tries again). */
export interface HistoryPrunerEvents {
  failure: [error: Error]
  pruned: [result: PruneResult]
}

// Published events only: an unpublished row is work the relay still owes.
const PRUNE_OUTBOX = `
  DELETE FROM outbox WHERE id IN (
    SELECT id FROM outbox
    WHERE published_at IS NOT NULL AND published_at < now() - make_interval(secs => $1::double precision / 1000)
    LIMIT $2)`

// Only changes every registered listener has read past (its checkpoint is a transaction horizon); with no
// listener registered, none will ever read them. A listener that never comes back holds pruning at its
// checkpoint: delete its row from change_listener_checkpoints to release it.
const PRUNE_CHANGES = `
  DELETE FROM changes WHERE id IN (
    SELECT id FROM changes
    WHERE changed_at < now() - make_interval(secs => $1::double precision / 1000)
      AND xid < coalesce((SELECT min(horizon) FROM change_listener_checkpoints),
                         pg_snapshot_xmin(pg_current_snapshot()))
    LIMIT $2)`

/**
 * Keeps the outbox and the changes table from growing without end: deletes published outbox rows and
 * read changes older than the retention, in small batches. Safe to run in several processes at once.
 */
export class HistoryPruner extends EventEmitter<HistoryPrunerEvents> {
  private readonly options: z.output<typeof optionsSchema>
  private timer: NodeJS.Timeout | undefined
  private running: Promise<PruneResult> | undefined

  constructor(options: HistoryPrunerOptions) {
    super()
    this.options = parseInput(optionsSchema, options, 'HistoryPrunerOptions')
  }

  /** Prunes now and then every `everyMs`; failures are emitted, never thrown. */
  start(): void {
    if (this.timer !== undefined) return
    const tick = () => {
      this.prune().then(
        (result) => this.emit('pruned', result),
        (error: unknown) => this.emit('failure', error as Error),
      )
    }
    this.timer = setInterval(tick, this.options.everyMs)
    this.timer.unref()
    tick()
  }

  /** Stops the schedule and waits for a prune in progress. */
  async stop(): Promise<void> {
    clearInterval(this.timer)
    this.timer = undefined
    await this.running?.catch(() => undefined)
  }

  /** One prune of both tables; concurrent calls share it. */
  prune(): Promise<PruneResult> {
    this.running ??= this.pruneBoth().finally(() => {
      this.running = undefined
    })
    return this.running
  }

  private async pruneBoth(): Promise<PruneResult> {
    return {
      outbox: await this.deleteInBatches(PRUNE_OUTBOX),
      changes: await this.deleteInBatches(PRUNE_CHANGES),
    }
  }

  private async deleteInBatches(statement: string): Promise<number> {
    const { pool, retentionMs, batchSize } = this.options
    let deleted = 0
    for (;;) {
      const { rowCount } = await pool.query(statement, [retentionMs, batchSize])
      deleted += rowCount ?? 0
      if ((rowCount ?? 0) < batchSize) return deleted
    }
  }
}
