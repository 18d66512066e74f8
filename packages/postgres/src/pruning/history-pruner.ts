import { EventEmitter } from 'node:events'
import { durationSchema } from '@cachesaga/common'
import pg from 'pg'
import { z } from 'zod'
import type { Database } from '../database/database.js'
import { openDatabase } from '../database/open-database.js'
import { type DatabaseOptions, databaseOptionsShape } from '../database/postgres-connection.js'
import { CheckpointStore } from '../listener/checkpoint-store.js'
import { identifierSchema, parseOptions } from '../parse-options.js'

export interface HistoryPrunerOptions extends DatabaseOptions {
  /** The schema of the package's tables (`ChangeCapture.schema`, the outbox's schema). Default `cachesaga`. */
  schema?: string
  /**
   * Rows younger than this stay: for an operator looking back, and for the replay after a Redis restart,
   * whose window must be shorter. Default `'7d'`.
   */
  retention?: number | string
  /** How often `start()` prunes. Default `'1h'`. */
  every?: number | string
  /** Rows deleted per statement, so no prune holds locks on a large table for long. Default 1000. */
  batchSize?: number
}

const optionsSchema = z.object({
  ...databaseOptionsShape,
  schema: identifierSchema.default('cachesaga'),
  retention: durationSchema.default(7 * 24 * 60 * 60 * 1000),
  every: durationSchema.default(60 * 60 * 1000).refine((ms) => ms > 0, 'must be positive'),
  batchSize: z.number().int().positive().default(1_000),
})

/** How many rows one prune removed from each table (0 for a table that is not installed). */
export interface PruneResult {
  changes: number
  outbox: number
}

/** Emitted events: `pruned` after each scheduled prune, `failure` for one that failed (the next one retries). */
export interface HistoryPrunerEvents {
  pruned: [result: PruneResult]
  failure: [error: unknown]
}

/**
 * Keeps the changes table and the outbox from growing without end: deletes, past the retention, changes
 * every registered listener has passed and outbox rows already published. Safe in several processes.
 */
export class HistoryPruner extends EventEmitter<HistoryPrunerEvents> {
  private readonly options: z.output<typeof optionsSchema>
  private readonly database: Database
  private readonly schema: string
  private timer: NodeJS.Timeout | undefined
  private running: Promise<PruneResult> | undefined

  constructor(options: HistoryPrunerOptions) {
    super()
    this.options = parseOptions(optionsSchema, options, 'HistoryPrunerOptions')
    this.database = openDatabase(this.options, 'cachesaga-pruner')
    this.schema = pg.escapeIdentifier(this.options.schema)
  }

  /** Prunes now and then every `every`; results and failures are emitted, never thrown. */
  start(): void {
    if (this.timer !== undefined) return
    this.timer = setInterval(() => this.pruneAndReport(), this.options.every)
    // A schedule alone should not keep the process alive.
    this.timer.unref()
    this.pruneAndReport()
  }

  private pruneAndReport(): void {
    this.prune().then(
      (result) => this.emit('pruned', result),
      (error: unknown) => this.emit('failure', error),
    )
  }

  /** Stops the schedule, waits for a prune in progress, and closes the pool if it opened one. */
  async stop(): Promise<void> {
    clearInterval(this.timer)
    this.timer = undefined
    await this.running?.catch(() => undefined)
    await this.database.close()
  }

  /** One prune of both tables; concurrent calls share it. */
  prune(): Promise<PruneResult> {
    this.running ??= this.pruneBoth().finally(() => {
      this.running = undefined
    })
    return this.running
  }

  /**
   * Unregisters a listener that will not come back, so it stops holding changes back from pruning.
   * Resolves with whether it was registered. Should it start again, it starts from now.
   */
  async forgetListener(name: string): Promise<boolean> {
    return new CheckpointStore(this.database, this.options.schema).forget(name)
  }

  private async pruneBoth(): Promise<PruneResult> {
    const installed = await this.installedTables()
    return {
      // Only changes every registered listener has read past (a checkpoint is a transaction horizon);
      // with none registered, nobody will read them. A listener that never comes back holds pruning at
      // its checkpoint until `forgetListener`.
      changes: installed.has('changes')
        ? await this.deleteInBatches(
            `DELETE FROM ${this.schema}.changes WHERE id IN (
               SELECT id FROM ${this.schema}.changes
               WHERE changed_at < now() - make_interval(secs => $1::double precision / 1000)
                 AND xid < coalesce((SELECT min(horizon) FROM ${this.schema}.listener_checkpoints),
                                    pg_snapshot_xmin(pg_current_snapshot()))
               LIMIT $2)`,
          )
        : 0,
      // Published rows only: an unpublished one is work a relay still owes.
      outbox: installed.has('outbox')
        ? await this.deleteInBatches(
            `DELETE FROM ${this.schema}.outbox WHERE id IN (
               SELECT id FROM ${this.schema}.outbox
               WHERE published_at < now() - make_interval(secs => $1::double precision / 1000)
               LIMIT $2)`,
          )
        : 0,
    }
  }

  private async installedTables(): Promise<Set<string>> {
    const { rows } = await this.database.query<{ name: string }>(
      `SELECT table_name AS name FROM information_schema.tables
       WHERE table_schema = $1 AND table_name IN ('changes', 'outbox')`,
      [this.options.schema],
    )
    return new Set(rows.map((row) => row.name))
  }

  private async deleteInBatches(statement: string): Promise<number> {
    const { retention, batchSize } = this.options
    let deleted = 0
    for (;;) {
      const { rowCount } = await this.database.query(statement, [retention, batchSize])
      deleted += rowCount ?? 0
      if ((rowCount ?? 0) < batchSize) return deleted
    }
  }
}
