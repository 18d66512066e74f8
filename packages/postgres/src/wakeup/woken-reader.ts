import type { Database } from '../database/database.js'
import { Doorbell } from './doorbell.js'

export interface WokenReaderOptions {
  database: Database
  /** The channel the table's trigger notifies. */
  channel: string
  /** Also read this often: for what no bell announced (a retry after a failure, a NOTIFY missed while away). */
  pollIntervalMs: number
  /** Reads and handles what is pending; resolves with how many items it handled. */
  read: () => Promise<number>
  onError: (error: unknown) => void
}

/**
 * Reads a table whenever its doorbell rings, the poll timer fires or someone asks, one read at a time: the
 * engine of the change listener and of the outbox relay. A wake-up during a read is not dropped but folded
 * into one more read after it, so a burst of notifications costs one extra read and none is lost.
 */
export class WokenReader {
  private readonly doorbell: Doorbell
  private poll: NodeJS.Timeout | undefined
  private current: Promise<number> | undefined
  private wokenDuringRead = false

  constructor(private readonly options: WokenReaderOptions) {
    this.doorbell = new Doorbell(
      options.database,
      options.channel,
      () => void this.readNow(),
      options.onError,
    )
  }

  /** Resolves once listening; the first read follows right away. */
  async start(): Promise<void> {
    this.poll = setInterval(() => void this.readNow(), this.options.pollIntervalMs)
    await this.doorbell.open()
  }

  async stop(): Promise<void> {
    clearInterval(this.poll)
    await this.doorbell.close()
    await this.current
  }

  /**
   * Reads now, or joins the read in progress (which then reads once more). Resolves with how many items
   * the run handled; never rejects: a failed read goes to `onError` and the next wake-up tries again.
   */
  readNow(): Promise<number> {
    if (this.current !== undefined) {
      this.wokenDuringRead = true
      return this.current
    }
    this.current = this.readUntilNothingNew().finally(() => {
      this.current = undefined
    })
    return this.current
  }

  private async readUntilNothingNew(): Promise<number> {
    let handled = 0
    try {
      do {
        this.wokenDuringRead = false
        handled += await this.options.read()
      } while (this.wokenDuringRead)
    } catch (error) {
      this.options.onError(error)
    }
    return handled
  }
}
