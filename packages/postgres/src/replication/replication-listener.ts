import { EventEmitter } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import { durationSchema } from '@cachesaga/common'
import { LogicalReplicationService, type Pgoutput, PgoutputPlugin } from 'pg-logical-replication'
import { z } from 'zod'
import type { ChangeHandler } from '../capture/change.js'
import type { ChangeCapture } from '../capture/change-capture.js'
import type { Database } from '../database/database.js'
import { openDatabase } from '../database/open-database.js'
import { type DatabaseOptions, databaseOptionsShape } from '../database/postgres-connection.js'
import { PostgresError } from '../errors.js'
import { functionSchema, identifierSchema, parseOptions } from '../parse-options.js'
import { formatLsn, parseLsn } from './lsn.js'
import { ensureReplicationSlot } from './replication-slot.js'
import { type DecodedTransaction, TransactionDecoder } from './transaction-decoder.js'

export interface ReplicationListenerOptions extends DatabaseOptions {
  /** The declaration whose migration (`source: 'replication'`) is applied. */
  capture: ChangeCapture
  /**
   * The replication slot: created (pgoutput) on first start, it is this listener's checkpoint, kept by
   * PostgreSQL. It holds WAL while nobody reads it: see `replicationSlotHealth` and `dropReplicationSlot`.
   */
  slot: string
  /** The publication the migration created. Default `<capture.schema>_changes`. */
  publication?: string
  /**
   * Handles one change, as for `ChangeListener`. Delivery is at least once: a transaction is confirmed to
   * the slot only after every change in it was handled; a handler that throws makes the listener reconnect
   * and receive that transaction again.
   */
  onChange: ChangeHandler
  /** How often to report progress to the server (and answer its keepalives). Default `'5s'`. */
  statusInterval?: number | string
  /** The wait before reconnecting after a lost stream or a failed delivery. Default `'1s'`. */
  retryDelay?: number | string
}

const optionsSchema = z.object({
  ...databaseOptionsShape,
  capture: z.custom<ChangeCapture>(
    (value) => typeof (value as ChangeCapture)?.targetsOf === 'function',
    'expected a ChangeCapture',
  ),
  slot: identifierSchema,
  publication: identifierSchema.optional(),
  onChange: functionSchema<ChangeHandler>(),
  statusInterval: durationSchema.default(5_000).refine((ms) => ms > 0, 'must be positive'),
  retryDelay: durationSchema.default(1_000),
})

/** Emitted events: `failure` for a lost stream or a failed delivery (it reconnects); `confirmed` per confirmed LSN. */
export interface ReplicationListenerEvents {
  failure: [error: unknown]
  confirmed: [lsn: string]
}

/**
 * Delivers the committed changes of watched tables from a logical replication slot, in commit order, at
 * least once. The slot remembers what was confirmed, so a listener that was down (or crashed mid-
 * transaction) resumes after the last transaction it finished, even in another process.
 *
 * Loss model: nothing is confirmed before it was handled, so a crash, a lost connection or a throwing
 * handler can only cause redelivery. What can be lost is the slot itself: if it falls further behind than
 * the server's `max_slot_wal_keep_size`, PostgreSQL invalidates it (`wal_status = 'lost'`) and `start`
 * fails with `PG_ERR_REPLICATION_UNAVAILABLE`; the caches it fed must then be cleared.
 */
export class ReplicationListener extends EventEmitter<ReplicationListenerEvents> {
  private readonly options: z.output<typeof optionsSchema>
  private readonly database: Database
  private readonly publication: string
  private service: LogicalReplicationService | undefined
  /**
   * Committed transactions received and not yet handled, in commit order. In memory: a handler slower than
   * the write rate for long lets it grow (the slot would hold the same backlog as WAL otherwise).
   */
  private readonly pending: DecodedTransaction[] = []
  private handling: Promise<void> | undefined
  /** Everything up to here was handled (or held nothing of ours): what the slot may be told. */
  private confirmable: bigint | undefined
  private statusTimer: NodeJS.Timeout | undefined
  private streaming: Promise<void> | undefined
  private subscription: Promise<void> | undefined
  /** Set when a failed delivery ended the stream on purpose, so its end is not reported as a loss. */
  private redelivering = false
  private readonly stopping = new AbortController()

  constructor(options: ReplicationListenerOptions) {
    super()
    this.options = parseOptions(optionsSchema, options, 'ReplicationListenerOptions')
    this.database = openDatabase(this.options, `cachesaga-replication-${this.options.slot}`)
    this.publication = this.options.publication ?? this.options.capture.defaultPublication
  }

  /**
   * Checks the setup (wal_level, publication, replica identity), creates the slot if needed and resolves
   * once streaming. Rejects with `PG_ERR_REPLICATION_UNAVAILABLE` when replication cannot work here.
   */
  async start(): Promise<void> {
    await ensureReplicationSlot(this.database, this.options.slot)
    await this.checkTables()
    await this.connect()
    this.statusTimer = setInterval(() => this.reportProgress(), this.options.statusInterval)
    this.streaming = this.keepStreaming()
  }

  /**
   * Stops taking new transactions, handles (and confirms) those already received, then closes the stream
   * and the pool if it opened one.
   */
  async stop(): Promise<void> {
    this.stopping.abort()
    clearInterval(this.statusTimer)
    await this.handling
    this.reportProgress()
    await this.service?.destroy()
    await this.streaming
    await this.database.close()
  }

  /** The tables must be published and carry whole old rows, or an update would lose the row it came from. */
  private async checkTables(): Promise<void> {
    const names = this.options.capture.tableNames()
    const { rows } = await this.database.query<{ name: string }>(
      `SELECT n.nspname || '.' || c.relname AS name
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname || '.' || c.relname = ANY($2::text[]) AND c.relreplident = 'f'
         AND EXISTS (SELECT 1 FROM pg_publication_tables p
                     WHERE p.pubname = $1 AND p.schemaname = n.nspname AND p.tablename = c.relname)`,
      [this.publication, names],
    )
    const wrong = names.filter((name) => !rows.some((row) => row.name === name))
    if (wrong.length > 0) {
      throw new PostgresError(
        'PG_ERR_REPLICATION_UNAVAILABLE',
        `publication ${this.publication} in ${this.database.name} lacks ${wrong.join(', ')} (or their REPLICA IDENTITY FULL): apply capture.migrationSql({ source: 'replication' })`,
        { details: { database: this.database.name, publication: this.publication, tables: wrong } },
      )
    }
  }

  /** Opens the stream; resolves once the server started sending, rejects if it refused or did not answer. */
  private async connect(): Promise<void> {
    const { rows } = await this.database.query<{ confirmed: string | null }>(
      'SELECT confirmed_flush_lsn::text AS confirmed FROM pg_replication_slots WHERE slot_name = $1',
      [this.options.slot],
    )
    if (rows[0]?.confirmed) this.advance(rows[0].confirmed)
    const service = new LogicalReplicationService(this.database.clientConfig(), {
      // Confirmation is ours alone: the library's timer would confirm what was received, not handled.
      acknowledge: { auto: false, timeoutSeconds: 0 },
    })
    const decoder = new TransactionDecoder(this.options.capture)
    this.service = service
    // The stream's errors also end its subscription, which `keepStreaming` reports; without a listener
    // the emitter would throw them.
    service.on('error', () => {})
    service.on('data', (_lsn: string, message: Pgoutput.Message) => {
      if (this.stopping.signal.aborted || this.service !== service) return
      const committed = decoder.decode(message)
      if (committed !== undefined) this.enqueue(committed)
    })
    service.on('heartbeat', (lsn: string, _timestamp: number, shouldRespond: boolean) => {
      // Idle (nothing received and unhandled, no transaction half-received): everything before the
      // server's position that concerned us was handled, so the slot may move up to it.
      if (!decoder.inTransaction && this.pending.length === 0 && this.handling === undefined)
        this.advance(lsn)
      if (shouldRespond) this.reportProgress()
    })
    const started = new Promise<void>((resolve) => service.once('start', () => resolve()))
    const subscription = service.subscribe(
      new PgoutputPlugin({ protoVersion: 1, publicationNames: [this.publication] }),
      this.options.slot,
    )
    this.subscription = subscription.then(() => undefined)
    this.subscription.catch(() => {})
    let timer: NodeJS.Timeout | undefined
    try {
      await Promise.race([
        started,
        this.subscription.then(() => {
          throw new Error('the stream ended before it started')
        }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no stream within ${this.options.connectTimeout} ms`)),
            this.options.connectTimeout,
          )
        }),
      ])
    } catch (error) {
      await service.destroy().catch(() => {})
      throw this.streamError(error)
    } finally {
      clearTimeout(timer)
    }
  }

  /** While not stopped: waits for the stream to end (a lost connection, a failed delivery), then reconnects. */
  private async keepStreaming(): Promise<void> {
    while (!this.stopping.signal.aborted) {
      try {
        await this.subscription
        if (!this.stopping.signal.aborted && !this.redelivering) {
          this.emit('failure', this.streamError(new Error('the replication stream ended')))
        }
      } catch (error) {
        if (!this.stopping.signal.aborted) this.emit('failure', this.streamError(error))
      }
      if (this.stopping.signal.aborted) return
      await this.reconnect()
    }
  }

  private async reconnect(): Promise<void> {
    await this.service?.destroy().catch(() => {})
    // Transactions received but not handled come again from the slot, which was never told about them.
    this.pending.length = 0
    await this.handling
    this.redelivering = false
    while (!this.stopping.signal.aborted) {
      await sleep(this.options.retryDelay, undefined, { signal: this.stopping.signal }).catch(() => {})
      if (this.stopping.signal.aborted) return
      try {
        await this.connect()
        return
      } catch (error) {
        this.emit('failure', error)
      }
    }
  }

  private enqueue(transaction: DecodedTransaction): void {
    this.pending.push(transaction)
    this.handling ??= this.handleInOrder().finally(() => {
      this.handling = undefined
    })
  }

  private async handleInOrder(): Promise<void> {
    for (let next = this.pending.shift(); next !== undefined; next = this.pending.shift()) {
      for (const change of next.changes) {
        try {
          await this.options.onChange(change)
        } catch (error) {
          this.emit(
            'failure',
            new PostgresError(
              'PG_ERR_DELIVERY_FAILED',
              `slot ${this.options.slot}: change ${change.id} of ${change.table} was not handled: ${(error as Error)?.message ?? error}`,
              {
                cause: error,
                details: { slot: this.options.slot, changeId: change.id, table: change.table },
              },
            ),
          )
          // End the stream: on reconnect the slot sends this transaction (and all after it) again.
          this.pending.length = 0
          this.redelivering = true
          void this.service?.stop()
          return
        }
      }
      this.advance(next.commitEndLsn)
    }
  }

  private advance(lsn: string): void {
    const position = parseLsn(lsn)
    if (this.confirmable === undefined || position > this.confirmable) this.confirmable = position
  }

  /**
   * Tells the server how far the slot may move (a standby status update, which also answers keepalives).
   * The position sent is exact: a transaction whose commit record starts at or after it is sent again.
   */
  private reportProgress(): void {
    const service = this.service
    const position = this.confirmable
    if (service === undefined || service.isStop() || position === undefined || position === 0n) return
    // The library reports the position it is given plus one byte.
    void service.acknowledge(formatLsn(position - 1n)).then(
      (sent) => {
        if (sent) this.emit('confirmed', formatLsn(position))
      },
      () => {},
    )
  }

  private streamError(error: unknown): unknown {
    if (error instanceof PostgresError) return error
    const code = (error as { code?: string })?.code
    const message = error instanceof Error ? error.message : String(error)
    // 55006 object_in_use: another consumer streams from this slot. 55000: the slot was invalidated.
    if (code === '55006' || code === '55000' || code === '42704') {
      return new PostgresError(
        'PG_ERR_REPLICATION_UNAVAILABLE',
        `replication slot ${this.options.slot} in ${this.database.name} cannot be read: ${message}`,
        { cause: error, details: { database: this.database.name, slot: this.options.slot } },
      )
    }
    const classified = this.database.classify(error)
    if (classified instanceof PostgresError) return classified
    return new PostgresError(
      'PG_ERR_CONNECTION_LOST',
      `the replication stream from ${this.database.name} was lost: ${message}`,
      { cause: error, details: { database: this.database.name, slot: this.options.slot } },
    )
  }
}
