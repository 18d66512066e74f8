import { EventEmitter } from 'node:events'
import { durationSchema } from '@cachesaga/common'
import pg from 'pg'
import { z } from 'zod'
import type { Database } from '../database/database.js'
import { openDatabase } from '../database/open-database.js'
import { type DatabaseOptions, databaseOptionsShape } from '../database/postgres-connection.js'
import { PostgresError } from '../errors.js'
import { identifierSchema, parseOptions } from '../parse-options.js'
import { WokenReader } from '../wakeup/woken-reader.js'
import { outboxChannel } from './outbox-sql.js'
import { dispatchInTraces, type OutboxRow } from './outbox-trace.js'

/**
 * Where the relay sends events: @cachesaga/queue's `Dispatcher` fits as is, and so does any catalog-typed
 * dispatcher with a `dispatchAll`. It should reject when it did not take every event, and absorb an event it
 * already has (the queue deduplicates on the event's id).
 */
export interface OutboxDispatcher<Event> {
  dispatchAll(events: readonly Event[]): Promise<unknown>
}

export interface OutboxRelayOptions<Event> extends DatabaseOptions {
  dispatcher: OutboxDispatcher<Event>
  /** The schema that holds the outbox. Default `cachesaga`. */
  schema?: string
  /** Rows claimed (and dispatched in one `dispatchAll`) per transaction. Default 100. */
  batchSize?: number
  /** How often to look for rows without a NOTIFY (missed while reconnecting, or failed and due again). Default `'1s'`. */
  pollInterval?: number | string
}

const optionsSchema = z.object({
  ...databaseOptionsShape,
  dispatcher: z.custom<OutboxDispatcher<unknown>>(
    (value) => typeof (value as OutboxDispatcher<unknown>)?.dispatchAll === 'function',
    'expected an object with dispatchAll(events)',
  ),
  schema: identifierSchema.default('cachesaga'),
  batchSize: z.number().int().positive().default(100),
  pollInterval: durationSchema.default(1_000).refine((ms) => ms > 0, 'must be positive'),
})

/** Emitted events: `dispatched` per batch, `failure` for a failed dispatch or database error; it keeps running. */
export interface OutboxRelayEvents {
  dispatched: [outboxIds: string[]]
  failure: [error: unknown]
}

interface Batch {
  /** The outbox ids dispatched and marked published. */
  ids: string[]
  full: boolean
}

/**
 * Moves committed outbox rows to the dispatcher, oldest first. Any number of relays may run: each claims
 * its batch with `FOR UPDATE SKIP LOCKED`, so two never hold the same row, and a batch whose relay died is
 * unlocked with its connection and taken by another.
 *
 * Delivery is at least once: a relay that dies after `dispatchAll` resolved and before its commit leaves the
 * batch unpublished, and the next relay dispatches it again, with the same stored events (same event ids),
 * which the queue absorbs. A failed dispatch keeps the whole batch (and everything after it) for a later run.
 */
export class OutboxRelay<Event = unknown> extends EventEmitter<OutboxRelayEvents> {
  private readonly options: z.output<typeof optionsSchema>
  private readonly dispatcher: OutboxDispatcher<Event>
  private readonly database: Database
  private readonly reader: WokenReader
  private readonly outbox: string

  constructor(options: OutboxRelayOptions<Event>) {
    super()
    this.options = parseOptions(optionsSchema, options, 'OutboxRelayOptions')
    this.dispatcher = options.dispatcher
    this.database = openDatabase(this.options, 'cachesaga-outbox-relay')
    this.outbox = `${pg.escapeIdentifier(this.options.schema)}.outbox`
    this.reader = new WokenReader({
      database: this.database,
      channel: outboxChannel(this.options.schema),
      pollIntervalMs: this.options.pollInterval,
      read: () => this.relayUntilEmpty(),
      onError: (error) => this.emit('failure', error),
    })
  }

  /** Starts listening; whatever was committed before (say, before a crash) is relayed right away. */
  start(): Promise<void> {
    return this.reader.start()
  }

  /** Stops listening, waits for the batch in progress, and closes the pool if it opened one. */
  async stop(): Promise<void> {
    await this.reader.stop()
    await this.database.close()
  }

  /** Relays until the outbox is empty or a dispatch fails; concurrent calls share one run. Resolves with the count. */
  relayPending(): Promise<number> {
    return this.reader.readNow()
  }

  private async relayUntilEmpty(): Promise<number> {
    let dispatched = 0
    for (;;) {
      const batch = await this.relayBatch()
      dispatched += batch.ids.length
      if (!batch.full) return dispatched
    }
  }

  private async relayBatch(): Promise<Batch> {
    let failure: PostgresError | undefined
    const batch = await this.database.transaction(async (client): Promise<Batch> => {
      const { rows } = await this.database.run<OutboxRow<Event>>(
        client,
        `SELECT id::text, event, trace FROM ${this.outbox}
         WHERE published_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [this.options.batchSize],
      )
      if (rows.length === 0) return { ids: [], full: false }
      const ids = rows.map((row) => row.id)
      try {
        await dispatchInTraces(this.dispatcher, rows)
      } catch (error) {
        failure = new PostgresError(
          'PG_ERR_DISPATCH_FAILED',
          `outbox rows ${ids[0]}..${ids[ids.length - 1]} were not dispatched: ${(error as Error)?.message ?? error}`,
          { cause: error, details: { outboxIds: ids } },
        )
        // Recorded for an operator; the rows stay unpublished and the next run tries them again.
        await this.database.run(
          client,
          `UPDATE ${this.outbox} SET attempts = attempts + 1, last_error = $2 WHERE id = ANY($1::bigint[])`,
          [ids, failure.message],
        )
        return { ids: [], full: false }
      }
      await this.database.run(
        client,
        `UPDATE ${this.outbox} SET published_at = now() WHERE id = ANY($1::bigint[])`,
        [ids],
      )
      return { ids, full: ids.length === this.options.batchSize }
    })
    if (failure !== undefined) throw failure
    if (batch.ids.length > 0) this.emit('dispatched', batch.ids)
    return batch
  }
}
