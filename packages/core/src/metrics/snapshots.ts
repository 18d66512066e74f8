import { z } from 'zod'
import type { CacheParts } from '../parts.js'
import type { CacheHealth } from './health.js'
import type { CacheStats } from './stats.js'

/** What a live instance last wrote about itself (see the `snapshots` option). */
export interface InstanceSnapshot {
  instanceId: string
  /** When it was written, ms since the epoch. */
  at: number
  stats: CacheStats
  health: CacheHealth
}

const snapshotSchema = z.object({
  instanceId: z.string(),
  at: z.number(),
  stats: z.custom<CacheStats>((value) => typeof value === 'object' && value !== null),
  health: z.custom<CacheHealth>((value) => typeof value === 'object' && value !== null),
})

/**
 * Every `everyMs` an instance writes its stats and health to `<P>:i:<instanceId>` with a TTL of three
 * periods, so a process without traffic of its own (the CLI) can report on the live ones, and an
 * instance that died disappears by itself.
 */
export class SnapshotPublisher {
  private readonly timer: NodeJS.Timeout
  private stopped = false

  constructor(
    private readonly parts: CacheParts,
    private readonly everyMs: number,
    private readonly take: () => Promise<Omit<InstanceSnapshot, 'instanceId' | 'at'>>,
  ) {
    this.timer = setInterval(() => void this.publish(), everyMs)
    this.timer.unref()
  }

  async publish(): Promise<void> {
    const l2 = this.parts.l2
    if (l2 === undefined || this.stopped) return
    const key = `${this.parts.layout.prefix}:i:${this.parts.instanceId}`
    try {
      const snapshot = { instanceId: this.parts.instanceId, at: Date.now(), ...(await this.take()) }
      await l2.run(() => l2.client.set(key, JSON.stringify(snapshot), 'PX', this.everyMs * 3))
    } catch (error) {
      this.parts.absorb('snapshot', error)
    }
  }

  stop(): void {
    this.stopped = true
    clearInterval(this.timer)
  }
}

/** The snapshots live instances of this namespace wrote (SCAN, never KEYS), except `exclude`'s. */
export async function readSnapshots(parts: CacheParts, exclude: string): Promise<InstanceSnapshot[]> {
  const l2 = parts.l2
  if (l2 === undefined) return []
  const found: InstanceSnapshot[] = []
  await l2.scan(`${parts.layout.prefix}:i:*`, async (node, keys) => {
    const raws = await l2.run(() => node.mget(...keys))
    for (const raw of raws) {
      if (typeof raw !== 'string') continue
      try {
        const snapshot = snapshotSchema.parse(JSON.parse(raw))
        if (snapshot.instanceId !== exclude) found.push(snapshot)
      } catch {
        // An unreadable snapshot (another version) is skipped, not fatal to the report.
      }
    }
  })
  return found.sort((a, b) => a.instanceId.localeCompare(b.instanceId))
}
