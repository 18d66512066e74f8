import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'

export interface NotifyWakerOptions {
  /** One of its connections is held for `LISTEN` while the waker runs. */
  pool: pg.Pool
  channel: string
  /** Also wake this often, for whatever a notification could not announce. */
  pollIntervalMs: number
  wake: () => void
  onError: (error: Error) => void
}

const MAX_RECONNECT_DELAY_MS = 2_000

/**
 * Calls `wake` on every NOTIFY on `channel`, after every (re)connect of its listening connection and on a
 * timer. A NOTIFY is a doorbell, not the message: it is lost while nobody listens, so whoever is woken
 * reads the table that holds the truth.
 */
export class NotifyWaker {
  private client: pg.PoolClient | undefined
  private connecting: Promise<void> | undefined
  private poll: NodeJS.Timeout | undefined
  private readonly stopping = new AbortController()

  constructor(private readonly options: NotifyWakerOptions) {}

  /** Resolves once the first `LISTEN` is in place (retrying until it is, or until `stop()`). */
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
    this.connecting ??= this.connectUntilListening().finally(() => {
      this.connecting = undefined
    })
    return this.connecting
  }

  private async connectUntilListening(): Promise<void> {
    for (let attempt = 0; !this.stopping.signal.aborted; attempt++) {
      let client: pg.PoolClient | undefined
      try {
        client = await this.options.pool.connect()
        const listening = client
        listening.on('notification', (message) => {
          if (message.channel === this.options.channel) this.options.wake()
        })
        listening.on('error', (error) => this.lost(listening, error))
        listening.on('end', () => this.lost(listening, new Error('the LISTEN connection ended')))
        await listening.query(`LISTEN ${pg.escapeIdentifier(this.options.channel)}`)
        if (this.stopping.signal.aborted) {
          listening.release(true)
          return
        }
        this.client = listening
        // Notifications sent while nobody listened are gone; the woken reader finds their rows.
        this.options.wake()
        return
      } catch (error) {
        client?.release(true)
        this.options.onError(error as Error)
        const delay = Math.min(50 * 2 ** attempt, MAX_RECONNECT_DELAY_MS)
        await sleep(delay, undefined, { signal: this.stopping.signal }).catch(() => {})
      }
    }
  }

  private lost(client: pg.PoolClient, error: Error): void {
    if (this.client !== client) return
    this.client = undefined
    client.release(true)
    this.options.onError(error)
    void this.connect()
  }
}
