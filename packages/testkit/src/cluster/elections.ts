import { setTimeout as sleep } from 'node:timers/promises'
import type { RedisServer } from '../redis/server.js'

/** The part of a topology this module reads. */
interface Roles {
  masters: ReadonlyArray<{ node: RedisServer; replicas: readonly RedisServer[] }>
}

/**
 * When each node last won a failover election, as far as the harness saw. Redis 7.0 keeps a winner's
 * election state after it wins. Made a replica again, it "wins" the next election it starts within
 * `max(2 × node timeout, 2 s)` of the last one at once, with its old config epoch, which is lower than the
 * epoch of whoever demoted it, so the other nodes ignore the claim and its slots stay unserved. Between that
 * and twice that, it refuses to start an election at all. (Valkey fixed this: valkey-io/valkey#1711.) So
 * before the harness asks such a replica to fail over, it lets twice that time pass since its last win.
 */
export class Elections {
  private readonly wonAt = new Map<RedisServer, number>()
  private readonly roles = new Map<RedisServer, 'master' | 'replica'>()

  constructor(private readonly nodeTimeoutMs: number) {}

  /** How long after winning an election a node may start a sound one again. */
  get memoryMs(): number {
    return 2 * Math.max(2 * this.nodeTimeoutMs, 2_000)
  }

  /**
   * Notes every node's role in `topology`. A replica now seen as a master won an election (no earlier than
   * its last observation, so the recorded time errs late, on the safe side), unless it took over without one.
   */
  observe(topology: Roles, tookOver?: RedisServer): void {
    const now = Date.now()
    for (const { node, replicas } of topology.masters) {
      if (this.roles.get(node) === 'replica' && node !== tookOver) this.wonAt.set(node, now)
      this.roles.set(node, 'master')
      for (const replica of replicas) this.roles.set(replica, 'replica')
    }
  }

  /** Resolves once `node` can run an election that counts. */
  async settled(node: RedisServer): Promise<void> {
    const wonAt = this.wonAt.get(node)
    if (wonAt === undefined) return
    const wait = wonAt + this.memoryMs - Date.now()
    if (wait > 0) await sleep(wait)
  }
}
