import type { RedisRestart } from '../events.js'

/** Who answers on the other end: its `run_id` and its replication role. */
export interface ServerIdentity {
  runId: string
  role: string
}

/**
 * Notices that the Redis behind the connection is not the one it was: a restart (or another server taking
 * its address) changes the `run_id`, a failover changes the role. What such a server holds may predate
 * invalidations this instance applied (a snapshot restored, a replica that had not caught up), so the
 * cache drops its L1 and tells listeners, who may replay recent invalidations. It looks on every
 * (re)connect and every `everyMs` (a role can change without a reconnect).
 */
export class ServerWatch {
  private known: ServerIdentity | undefined
  private checking: Promise<void> | undefined
  private readonly timer: NodeJS.Timeout

  constructor(
    private readonly identify: () => Promise<ServerIdentity>,
    private readonly changed: (restart: RedisRestart) => void,
    private readonly absorb: (operation: string, error: unknown) => void,
    everyMs: number,
  ) {
    this.timer = setInterval(() => void this.check(), everyMs)
    this.timer.unref()
  }

  /** Compares the server with the one seen last; one look at a time. */
  check(): Promise<void> {
    this.checking ??= this.look().finally(() => {
      this.checking = undefined
    })
    return this.checking
  }

  stop(): void {
    clearInterval(this.timer)
  }

  private async look(): Promise<void> {
    let now: ServerIdentity
    try {
      now = await this.identify()
    } catch (error) {
      this.absorb('l2.identify', error)
      return
    }
    const before = this.known
    this.known = now
    if (before === undefined) return
    const detectedAt = Date.now()
    if (now.runId !== before.runId) {
      this.changed({ reason: 'run-id', detectedAt, previousRunId: before.runId, runId: now.runId })
    } else if (now.role !== before.role) {
      this.changed({ reason: 'role', detectedAt, previousRunId: before.runId, runId: now.runId })
    }
  }
}
