import { AsyncLocalStorage } from 'node:async_hooks'
import type { Cache } from '@cachesaga/core'

/**
 * Where one read was answered: memory (`l1`), Redis (`l2`), the database (`database`, this read ran the
 * loader), or `shared` (it joined a concurrent read of the same key and got that read's answer).
 */
export type ReadTier = 'l1' | 'l2' | 'database' | 'shared'

interface TierRecord {
  tier: ReadTier | undefined
}

/**
 * Finds out which tier answered a read, through the cache's public `hit` event. The event is emitted
 * synchronously inside the read's own async context, so an AsyncLocalStorage tells concurrent reads apart.
 */
export class ReadTierProbe {
  private readonly current = new AsyncLocalStorage<TierRecord>()

  constructor(cache: Cache) {
    cache.on('hit', ({ tier }) => {
      const record = this.current.getStore()
      if (record) record.tier = tier
    })
  }

  /** Runs `read`; `loaded()` inside its loader marks the answer as coming from the database. */
  async track<T>(read: (loaded: () => void) => Promise<T>): Promise<{ value: T; tier: ReadTier }> {
    const record: TierRecord = { tier: undefined }
    const value = await this.current.run(record, () =>
      read(() => {
        record.tier = 'database'
      }),
    )
    return { value, tier: record.tier ?? 'shared' }
  }
}
