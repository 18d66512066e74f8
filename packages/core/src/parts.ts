import type { ResolvedOptions } from './config/options.js'
import type { CacheEventEmitter } from './events.js'
import type { Faults } from './faults.js'
import type { StatsCollector } from './metrics/stats.js'
import type { KeyLayout } from './tiers/key-layout.js'
import type { L1Memory } from './tiers/l1-memory.js'
import type { L2Redis } from './tiers/l2-redis.js'
import type { LocalEpochs } from './tiers/local-epochs.js'

/** The parts of one cache that the read path and the invalidation strategies share. */
export interface CacheParts {
  readonly options: ResolvedOptions
  readonly layout: KeyLayout
  readonly l1: L1Memory
  /** Undefined in memory-only mode. */
  readonly l2: L2Redis | undefined
  readonly epochs: LocalEpochs
  readonly stats: StatsCollector
  readonly events: CacheEventEmitter
  readonly instanceId: string
  /** Deliberate defects, all off outside tests (see faults.ts). */
  readonly faults: Faults
  /** Counts and emits a failure the cache absorbs instead of throwing it at the caller. */
  absorb(operation: string, error: unknown, key?: string): void
}
