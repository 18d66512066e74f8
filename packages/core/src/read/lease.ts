import { randomBytes } from 'node:crypto'
import type { ResolvedEntryOptions } from '../config/entry-options.js'
import type { RedisProtocol } from '../redis/redis-protocol.js'
import type { Answer } from '../stack/answer.js'
import type { CacheStack } from '../stack/cache-stack.js'
import type { Fence } from '../stack/fence.js'

/** What waiting for the lease ended with: a fill by its holder, or our turn to load with this fence. */
export type LeaseOutcome = { kind: 'hit'; answer: Answer<unknown> } | { kind: 'leased' | 'own'; fence: Fence }

/**
 * Cross-process stampede protection: take the lease of a missing key, or wait for its holder's fill
 * (polling L2) until the wait bound, then load anyway. The lease is fenced by the key generation, so a
 * holder whose fill can no longer land does not keep the others waiting.
 */
export class LeaseWaiter {
  private readonly token: string

  constructor(
    private readonly l2: RedisProtocol,
    private readonly stack: CacheStack,
    private readonly lease: { ttl: number; wait: number },
    instanceId: string,
    private readonly absorb: (operation: string, error: unknown, key?: string) => void,
  ) {
    this.token = `${instanceId}.${randomBytes(4).toString('hex')}`
  }

  async wait(key: string, options: ResolvedEntryOptions, epoch: number, fence: Fence): Promise<LeaseOutcome> {
    const deadline = Date.now() + this.lease.wait
    let current = fence
    let delay = 2
    try {
      while (true) {
        if (await this.l2.acquireLease(key, this.token, current, this.lease.ttl)) {
          // The previous holder may have filled and released between our miss and this acquire:
          // look once more, or we would load a value that is already there.
          const recheck = await this.l2.read(key, options.deps, Date.now())
          if (recheck.status === 'fresh') {
            this.release(key)
            return { kind: 'hit', answer: this.stack.promote(key, recheck.entry!, epoch) }
          }
          return { kind: 'leased', fence: recheck.fence ?? current }
        }
        if (Date.now() + delay > deadline) return { kind: 'own', fence: current }
        await new Promise((resolve) => setTimeout(resolve, delay))
        delay = Math.min(delay * 2, 50)
        const read = await this.l2.read(key, options.deps, Date.now())
        if (read.status === 'fresh')
          return { kind: 'hit', answer: this.stack.promote(key, read.entry!, epoch) }
        current = read.fence ?? current
      }
    } catch (error) {
      this.absorb('l2.lease', error, key)
      return { kind: 'own', fence: current }
    }
  }

  release(key: string): void {
    this.l2.releaseLease(key, this.token).catch((error: unknown) => this.absorb('l2.lease', error, key))
  }
}
