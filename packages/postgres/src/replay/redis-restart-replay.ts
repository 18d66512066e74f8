import { EventEmitter } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import { durationSchema } from '@cachesaga/common'
import { z } from 'zod'
import type { Change } from '../capture/change.js'
import type { ChangeCapture } from '../capture/change-capture.js'
import { mergeTargets } from '../capture/merge-targets.js'
import type { Database } from '../database/database.js'
import { openDatabase } from '../database/open-database.js'
import { databaseOptionsShape, type PostgresConnection } from '../database/postgres-connection.js'
import { PostgresError } from '../errors.js'
import { CHANGE_ROW_COLUMNS, type ChangeRow, changesTable, toChange } from '../listener/change-rows.js'
import { parseOptions } from '../parse-options.js'
import { RecentChanges } from './recent-changes.js'
import type { RedisRestartEvent, RestartSignallingCache } from './redis-restart.js'

export interface RedisRestartReplayOptions {
  /** The cache whose `redis:restart` triggers a replay, and that the replay invalidates. */
  cache: RestartSignallingCache
  /** The declarations that map a change to its targets. */
  capture: ChangeCapture
  /**
   * How far before the restart to replay: staleness after a restart is bounded by it instead of by the
   * TTL. Cover Redis's replication lag (failover) or snapshot interval (restart from a snapshot), plus the
   * longest transaction. Default `'5m'`.
   */
  window?: number | string
  /** The changes table to read (trigger source); its retention (HistoryPruner) must exceed `window`. */
  database?: PostgresConnection
  connectTimeout?: number | string
  queryTimeout?: number | string
  /** Or, with the replication source, the changes this process handled (see `RecentChanges`). */
  recent?: RecentChanges
  /** Changes read and invalidated per batch. Default 500. */
  batchSize?: number
  /** Tries of one batch's invalidation (Redis has just come back, and may still be loading). Default 5. */
  attempts?: number
}

const optionsSchema = z
  .object({
    cache: z.custom<RestartSignallingCache>(
      (value) =>
        typeof (value as RestartSignallingCache)?.on === 'function' &&
        typeof (value as RestartSignallingCache)?.invalidate === 'function',
      'expected a cache with on() and invalidate()',
    ),
    capture: z.custom<ChangeCapture>(
      (value) => typeof (value as ChangeCapture)?.targetsOf === 'function',
      'expected a ChangeCapture',
    ),
    window: durationSchema.default(5 * 60 * 1000),
    database: databaseOptionsShape.database.optional(),
    connectTimeout: databaseOptionsShape.connectTimeout,
    queryTimeout: databaseOptionsShape.queryTimeout,
    recent: z.instanceof(RecentChanges).optional(),
    batchSize: z.number().int().positive().default(500),
    attempts: z.number().int().positive().default(5),
  })
  .refine((options) => (options.database === undefined) !== (options.recent === undefined), {
    message: 'give exactly one of database (a changes table) and recent (RecentChanges)',
    path: ['database'],
  })

/** What one replay did. */
export interface ReplayReport {
  event: RedisRestartEvent
  /** Changes found in the window. */
  changes: number
  /** Invalidation items applied (each once, however many changes named it). */
  items: number
}

/** Emitted events: `replayed` after each replay, `failure` for one that gave up. */
export interface RedisRestartReplayEvents {
  replayed: [report: ReplayReport]
  failure: [error: unknown]
}

const KINDS = ['keys', 'tags', 'patterns', 'scopes', 'queries'] as const

/**
 * Re-applies the invalidations of recent changes when Redis may have lost them. An invalidation Redis
 * acknowledged is gone if Redis restarts without persistence, restarts from a snapshot older than it, or
 * fails over to a replica that had not received it; the cache then serves what was invalidated until its
 * TTL. On `redis:restart`, this replays every change committed within `window` before the restart was
 * noticed, oldest first, each invalidation item once.
 */
export class RedisRestartReplay extends EventEmitter<RedisRestartReplayEvents> {
  private readonly options: z.output<typeof optionsSchema>
  private readonly database: Database | undefined
  private queue: Promise<unknown> = Promise.resolve()
  private readonly onRestart = (event: RedisRestartEvent) => {
    void this.replay(event).then(
      (report) => this.emit('replayed', report),
      (error: unknown) => this.emit('failure', error),
    )
  }

  constructor(options: RedisRestartReplayOptions) {
    super()
    this.options = parseOptions(optionsSchema, options, 'RedisRestartReplayOptions')
    const { database, connectTimeout, queryTimeout } = this.options
    this.database =
      database === undefined
        ? undefined
        : openDatabase({ database, connectTimeout, queryTimeout }, 'cachesaga-replay')
  }

  /** Replays on every `redis:restart` of the cache from now on. */
  start(): void {
    this.options.cache.on('redis:restart', this.onRestart)
  }

  /** Stops listening, waits for a replay in progress, and closes the pool if it opened one. */
  async stop(): Promise<void> {
    this.options.cache.off?.('redis:restart', this.onRestart)
    await this.queue.catch(() => undefined)
    await this.database?.close()
  }

  /**
   * Replays the window before `event` now (after any replay in progress). Rejects with
   * `PG_ERR_REPLAY_FAILED` when the changes cannot be read or the cache keeps refusing an invalidation.
   */
  replay(event: RedisRestartEvent): Promise<ReplayReport> {
    const run = this.queue.catch(() => undefined).then(() => this.replayWindow(event))
    this.queue = run
    return run
  }

  private async replayWindow(event: RedisRestartEvent): Promise<ReplayReport> {
    const applied = new Set<string>()
    let changes = 0
    try {
      for await (const batch of this.changesBefore(event)) {
        changes += batch.length
        const target = mergeTargets(
          batch.map((change) => this.options.capture.targetsOf(change)),
          applied,
        )
        if (target !== undefined) await this.invalidate(target)
      }
    } catch (error) {
      if (error instanceof PostgresError && error.code === 'PG_ERR_REPLAY_FAILED') throw error
      throw new PostgresError(
        'PG_ERR_REPLAY_FAILED',
        `the replay after a Redis restart (${event.reason}) could not read the changes: ${(error as Error)?.message ?? error}`,
        { cause: error, details: { reason: event.reason, detectedAt: event.detectedAt } },
      )
    }
    return { event, changes, items: applied.size }
  }

  /** The window's changes, oldest first, in batches. */
  private async *changesBefore(event: RedisRestartEvent): AsyncGenerator<Change[]> {
    const { window, batchSize, recent } = this.options
    if (recent !== undefined) {
      const changes = recent.since(event.detectedAt - window)
      for (let i = 0; i < changes.length; i += batchSize) yield changes.slice(i, i + batchSize)
      return
    }
    const database = this.database!
    // The window is measured on the database's clock: how long ago the cache noticed, plus the window.
    const reachBackMs = window + Math.max(0, Date.now() - event.detectedAt)
    let afterId = '0'
    for (;;) {
      const { rows } = await database.query<ChangeRow>(
        `SELECT ${CHANGE_ROW_COLUMNS} FROM ${changesTable(this.options.capture.schema)} change
         WHERE change.changed_at >= now() - make_interval(secs => $1::double precision / 1000)
           AND change.id > $2::bigint
         ORDER BY change.id LIMIT $3`,
        [reachBackMs, afterId, batchSize],
      )
      if (rows.length > 0) yield rows.map(toChange)
      if (rows.length < batchSize) return
      afterId = rows[rows.length - 1]!.id
    }
  }

  private async invalidate(target: NonNullable<ReturnType<typeof mergeTargets>>): Promise<void> {
    let lastError: unknown
    for (let attempt = 0; attempt < this.options.attempts; attempt++) {
      if (attempt > 0) await sleep(Math.min(100 * 2 ** attempt, 2_000))
      try {
        const report = await this.options.cache.invalidate(target)
        if (report.ok) return
        lastError = new Error('the cache reported the invalidation as not done')
      } catch (error) {
        lastError = error
      }
    }
    const items = KINDS.reduce((sum, kind) => sum + (target[kind]?.length ?? 0), 0)
    throw new PostgresError(
      'PG_ERR_REPLAY_FAILED',
      `the replay after a Redis restart could not invalidate ${items} items in ${this.options.attempts} tries: ${(lastError as Error)?.message ?? lastError}`,
      { cause: lastError, details: { items, attempts: this.options.attempts } },
    )
  }
}
