import { EventEmitter } from 'node:events'
import type pg from 'pg'
import { z } from 'zod'
import type { BookingEvent } from '../bookings/booking-events.js'
import { poolSchema } from '../db/pool-schema.js'
import { withTransaction } from '../db/transaction.js'
import { WokenReader } from '../db/woken-reader.js'
import { parseInput } from '../parse-input.js'

/** One outbox row as the publisher receives it. */
export interface OutboxMessage {
  /** The outbox row id: stable across redeliveries, so it is the key to deduplicate on (e.g. a job id). */
  outboxId: string
  occurredAt: Date
  event: BookingEvent
}

export interface OutboxRelayOptions {
  /** Claims batches through it; one of its connections is held for `LISTEN`. */
  pool: pg.Pool
  /**
   * Delivers one event. Delivery is at least once: an event published just before a crash, whose row was
   * not yet marked, is published again by the next relay, so make this idempotent on `outboxId`.
   */
  publish: (message: OutboxMessage) => Promise<void>
  /** Rows claimed per transaction. Default 100. */
  batchSize?: number
  /** How often to look for rows without a NOTIFY (missed while reconnecting, or failed and due again). Default 1000 ms. */
  pollIntervalMs?: number
}

const optionsSchema = z.object({
  pool: poolSchema,
  publish: z.custom<OutboxRelayOptions['publish']>((value) => typeof value === 'function', 'a function'),
  batchSize: z.number().int().positive().default(100),
  pollIntervalMs: z.number().int().positive().default(1_000),
})

interface OutboxRow {
  id: string
  occurred_at: Date
  payload: BookingEvent
}

/** Emitted events: `failure` for a publish that threw or a database error; the relay keeps running. */
export interface OutboxRelayEvents {
  failure: [error: Error]
}

/**
 * Moves committed outbox rows to `publish`. Several relays may run at once: `FOR UPDATE SKIP LOCKED` gives
 * each a disjoint batch, and a batch whose relay died is unlocked with its connection and taken by another.
 */
export class OutboxRelay extends EventEmitter<OutboxRelayEvents> {
  private readonly options: z.output<typeof optionsSchema>
  private readonly reader: WokenReader

  constructor(options: OutboxRelayOptions) {
    super()
    this.options = parseInput(optionsSchema, options, 'OutboxRelayOptions')
    this.reader = new WokenReader({
      pool: this.options.pool,
      channel: 'booking_outbox',
      pollIntervalMs: this.options.pollIntervalMs,
      read: () => this.relayUntilEmpty(),
      onError: (error) => this.emit('failure', error),
    })
  }

  /** Starts listening; whatever was committed before (say, before a crash) is relayed right away. */
  async start(): Promise<void> {
    await this.reader.start()
  }

  async stop(): Promise<void> {
    await this.reader.stop()
  }

  /**
   * Publishes unpublished rows until none is left or a publish fails. Concurrent calls share one run.
   * Resolves with how many rows this run published.
   */
  relayPending(): Promise<number> {
    return this.reader.readNow()
  }

  private async relayUntilEmpty(): Promise<number> {
    let published = 0
    for (;;) {
      const batch = await this.relayBatch()
      published += batch.published
      if (batch.failure) {
        // Reported after the batch committed, so the rows published before the failure stay published.
        this.emit('failure', batch.failure)
        return published
      }
      if (!batch.full) return published
    }
  }

  private relayBatch(): Promise<{ published: number; full: boolean; failure: Error | undefined }> {
    return withTransaction(this.options.pool, async (transaction) => {
      const { rows } = await transaction.query<OutboxRow>(
        `SELECT id::text, occurred_at, payload FROM outbox
         WHERE published_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [this.options.batchSize],
      )
      const published: string[] = []
      let failure: Error | undefined
      for (const row of rows) {
        try {
          await this.options.publish({ outboxId: row.id, occurredAt: row.occurred_at, event: row.payload })
          published.push(row.id)
        } catch (error) {
          failure = error as Error
          // Later rows wait for this one, so their order is kept; the poll retries it.
          await transaction.query(
            'UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE id = $1',
            [row.id, failure.message],
          )
          break
        }
      }
      await transaction.query('UPDATE outbox SET published_at = now() WHERE id = ANY($1::bigint[])', [
        published,
      ])
      return { published: published.length, full: rows.length === this.options.batchSize, failure }
    })
  }
}
