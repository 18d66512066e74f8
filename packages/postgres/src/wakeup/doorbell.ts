import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'
import type { Database } from '../database/database.js'
import { PostgresError } from '../errors.js'

const FIRST_RETRY_MS = 50
const LAST_RETRY_MS = 2_000

/**
 * Holds one connection that `LISTEN`s on a channel and rings on every notification on it, and once each
 * time the connection is (re)established: a NOTIFY is a doorbell, not the message, and one sent while the
 * connection was down is gone, so whoever hears the bell reads the table that holds the truth. A lost
 * connection is reported and replaced, with a growing pause between attempts.
 */
export class Doorbell {
  private listening: pg.PoolClient | undefined
  private opening: Promise<void> | undefined
  private readonly closed = new AbortController()

  constructor(
    private readonly database: Database,
    private readonly channel: string,
    private readonly ring: () => void,
    private readonly report: (error: unknown) => void,
  ) {}

  /** Resolves once listening, or once `close()` was called; every failed attempt on the way is reported. */
  open(): Promise<void> {
    this.opening ??= this.listenWithRetries().finally(() => {
      this.opening = undefined
    })
    return this.opening
  }

  async close(): Promise<void> {
    this.closed.abort()
    await this.opening
    this.listening?.release(true)
    this.listening = undefined
  }

  private async listenWithRetries(): Promise<void> {
    for (
      let pause = FIRST_RETRY_MS;
      !this.closed.signal.aborted;
      pause = Math.min(pause * 2, LAST_RETRY_MS)
    ) {
      try {
        await this.listenOnce()
        return
      } catch (error) {
        this.report(error)
        await sleep(pause, undefined, { signal: this.closed.signal }).catch(() => {})
      }
    }
  }

  private async listenOnce(): Promise<void> {
    const client = await this.database.connect()
    client.on('notification', ({ channel }) => {
      if (channel === this.channel) this.ring()
    })
    client.on('error', (error) => this.lost(client, error))
    client.on('end', () => this.lost(client, new Error('the connection ended')))
    try {
      await this.database.run(client, `LISTEN ${pg.escapeIdentifier(this.channel)}`)
    } catch (error) {
      client.release(true)
      throw error
    }
    if (this.closed.signal.aborted) {
      client.release(true)
      return
    }
    this.listening = client
    this.ring()
  }

  private lost(client: pg.PoolClient, cause: Error): void {
    if (this.listening !== client) return
    this.listening = undefined
    client.release(true)
    this.report(
      new PostgresError(
        'PG_ERR_CONNECTION_LOST',
        `the LISTEN connection to ${this.database.name} was lost (${cause.message}); reconnecting`,
        { cause, details: { database: this.database.name, channel: this.channel } },
      ),
    )
    if (!this.closed.signal.aborted) void this.open()
  }
}
