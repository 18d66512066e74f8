import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'
import type { Database } from '../database/database.js'
import { PostgresError } from '../errors.js'

export interface NotifyWakerOptions {
  database: Database
  channel: string
  /** Also wake this often: for what no notification announced (a retry, a NOTIFY sent while reconnecting). */
  pollIntervalMs: number
  wake: () => void
  onError: (error: unknown) => void
}

const MAX_RECONNECT_DELAY_MS = 2_000

/**
 * Calls `wake` on every NOTIFY on `channel`, after every (re)connect of its listening connection, and on a
 * timer. A NOTIFY is a doorbell, not the message: it is lost while nobody listens, so whoever is woken
 * reads the table that holds the truth.
 */
export class NotifyWaker {
  private client: pg.PoolClient | undefined
  private connecting: Promise<void> | undefined
  private poll: NodeJS.Timeout | undefined
  private readonly stopping = new AbortController()

  constructor(private readonly options: NotifyWakerOptions) {}

  /** Resolves once the first `LISTEN` is in place; retries (reporting each failure) until then or `stop()`. */
  async start(): Promise<void> {
    this.poll = setInterval(this.options.wake, this.options.pollIntervalMs)
    await this.connect()
  }

  async stop(): Promise<void> {
    this.stopping.abort()
    clearInterval(this.poll)
    await this.connecting
    this.client?.release(true)
    this.client = undefined
  }

  private connect(): Promise<void> {
    this.connecting ??= this.listenUntilDone().finally(() => {
      this.connecting = undefined
    })
    return this.connecting
  }

  private async listenUntilDone(): Promise<void> {
    const { database, channel } = this.options
    for (let attempt = 0; !this.stopping.signal.aborted; attempt++) {
      let client: pg.PoolClient | undefined
      try {
        client = await database.connect()
        const listening = client
        listening.on('notification', (message) => {
          if (message.channel === channel) this.options.wake()
        })
        listening.on('error', (error) => this.lost(listening, error))
        listening.on('end', () => this.lost(listening, new Error('the LISTEN connection ended')))
        await database.run(listening, `LISTEN ${pg.escapeIdentifier(channel)}`)
        if (this.stopping.signal.aborted) {
          listening.release(true)
          return
        }
        this.client = listening
        // Whatever was announced while nobody listened is in the table: read it now.
        this.options.wake()
        return
      } catch (error) {
        client?.release(true)
        this.options.onError(error)
        const delay = Math.min(50 * 2 ** attempt, MAX_RECONNECT_DELAY_MS)
        await sleep(delay, undefined, { signal: this.stopping.signal }).catch(() => {})
      }
    }
  }

  private lost(client: pg.PoolClient, error: Error): void {
    if (this.client !== client) return
    this.client = undefined
    client.release(true)
    this.options.onError(
      new PostgresError(
        'PG_ERR_CONNECTION_LOST',
        `the LISTEN connection to ${this.options.database.name} was lost (${error.message}); reconnecting`,
        { cause: error, details: { database: this.options.database.name, channel: this.options.channel } },
      ),
    )
    if (!this.stopping.signal.aborted) void this.connect()
  }
}
