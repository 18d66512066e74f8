import type { Database } from '../database/database.js'
import { CoalescedRuns } from './coalesced-runs.js'
import { NotifyWaker } from './notify-waker.js'

export interface WokenReaderOptions {
  database: Database
  /** The channel the table's trigger notifies. */
  channel: string
  pollIntervalMs: number
  /** Reads and handles what is pending; resolves with how many items it handled. */
  read: () => Promise<number>
  onError: (error: unknown) => void
}

/**
 * Reads a table whenever a NOTIFY, a reconnect or the poll timer says something may be new, one read at a
 * time: the engine of the change listener and of the outbox relay.
 */
export class WokenReader {
  private readonly runs: CoalescedRuns
  private readonly waker: NotifyWaker

  constructor({ database, channel, pollIntervalMs, read, onError }: WokenReaderOptions) {
    this.runs = new CoalescedRuns(read, onError)
    this.waker = new NotifyWaker({
      database,
      channel,
      pollIntervalMs,
      wake: () => void this.runs.run(),
      onError,
    })
  }

  /** Resolves once listening; the first read follows right away. */
  start(): Promise<void> {
    return this.waker.start()
  }

  async stop(): Promise<void> {
    await this.waker.stop()
    await this.runs.idle()
  }

  /** Reads now (or joins the read in progress); resolves with how many items the run handled. */
  readNow(): Promise<number> {
    return this.runs.run()
  }
}
