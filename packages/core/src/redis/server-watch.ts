import type { RedisRestart } from '../events.js'
import type { ServerCheck } from './redis-protocol.js'

/** What the watch does when it finds another server than the one it saw last. */
export interface RestartHandling {
  /**
   * `fenced`: this instance's check gave the namespace generation its fresh value (the others that notice the
   * same restart find it done), so it is the one to tell every instance to drop its L1.
   */
  changed(restart: RedisRestart, fenced: boolean): void
  absorb(operation: string, error: unknown): void
}

/**
 * Notices that the Redis serving the namespace is not the one it was, and that what it holds may predate
 * invalidations: a restart (possibly from an older snapshot) or another server at its address changes the
 * `run_id`, a failover changes the role (or, on a Cluster, the master of the namespace's slot and so the
 * `run_id`), and a replication offset going backwards under the same server is a rollback. Each check runs
 * the restart fence (see restart-fence.lua): the first instance to see a new server makes every entry
 * written before it invalid, for all instances at once. The watch checks on every (re)connect, before any
 * other command reaches the new connection, and every `everyMs` (a failover needs no reconnect).
 */
export class ServerWatch {
  private known: ServerCheck | undefined
  /** The look in flight or the last one: looks run one after the other. */
  private last: Promise<void> = Promise.resolve()
  private looking = false
  private readonly timer: NodeJS.Timeout

  constructor(
    private readonly checkServer: (force: boolean) => Promise<ServerCheck>,
    private readonly handling: RestartHandling,
    everyMs: number,
  ) {
    this.timer = setInterval(() => {
      // A periodic look waits for nothing: skip it while one is in flight.
      if (!this.looking) void this.check()
    }, everyMs)
    this.timer.unref()
  }

  /** Looks at the server once more, after any look in flight (a new connection deserves its own look). */
  check(): Promise<void> {
    const next = this.last.then(() => this.look())
    this.last = next
    return next
  }

  stop(): void {
    clearInterval(this.timer)
  }

  private async look(): Promise<void> {
    this.looking = true
    try {
      const before = this.known
      let now = await this.checkServer(false)
      let reason = before === undefined ? undefined : changeOf(before, now)
      if (reason === 'replication-offset') now = await this.checkServer(true)
      this.known = now
      // First look of this instance: the fence tells whether the namespace was fenced under another server.
      if (before === undefined && now.bumped && now.fencedBy !== undefined) reason = 'run-id'
      if (reason === undefined) return
      const restart: RedisRestart = { reason, detectedAt: Date.now(), runId: now.runId }
      const previousRunId = before?.runId ?? now.fencedBy
      if (previousRunId !== undefined) restart.previousRunId = previousRunId
      this.handling.changed(restart, now.bumped)
    } catch (error) {
      this.handling.absorb('l2.server-check', error)
    } finally {
      this.looking = false
    }
  }
}

/** Why `now` is not the server `before` described, or undefined when it is the same. */
function changeOf(before: ServerCheck, now: ServerCheck): RedisRestart['reason'] | undefined {
  if (now.runId !== before.runId) return 'run-id'
  if (now.role !== before.role) return 'role'
  if (now.replicationId === before.replicationId && now.replicationOffset < before.replicationOffset)
    return 'replication-offset'
  return undefined
}
