import { z } from 'zod'
import type { RedisProtocol } from '../redis/redis-protocol.js'
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
 * Every `everyMs` an instance writes its stats and health to Redis with a TTL of three periods, so a
 * process without traffic of its own (the CLI) can report on the live ones, and an instance that died
 * disappears by itself. One that closes removes its snapshot at once.
 */
export class SnapshotPublisher {
  private readonly timer: NodeJS.Timeout
  private stopped = false
  /** The write in progress, if any: a withdrawal waits for it, or the snapshot would come back after it. */
  private writing: Promise<void> = Promise.resolve()

  constructor(
    private readonly store: Pick<RedisProtocol, 'writeSnapshot' | 'deleteSnapshot'>,
    private readonly instanceId: string,
    private readonly everyMs: number,
    private readonly take: () => Promise<Omit<InstanceSnapshot, 'instanceId' | 'at'>>,
    private readonly absorb: (operation: string, error: unknown) => void,
  ) {
    this.timer = setInterval(() => void this.publish(), everyMs)
    this.timer.unref()
  }

  publish(): Promise<void> {
    if (this.stopped) return this.writing
    this.writing = this.write()
    return this.writing
  }

  /** Stops writing and removes this instance's snapshot: it leaves the live list now, not three periods later. */
  async withdraw(): Promise<void> {
    this.stopped = true
    clearInterval(this.timer)
    await this.writing
    try {
      await this.store.deleteSnapshot(this.instanceId)
    } catch (error) {
      this.absorb('snapshot', error)
    }
  }

  private async write(): Promise<void> {
    try {
      const snapshot = { instanceId: this.instanceId, at: Date.now(), ...(await this.take()) }
      if (this.stopped) return
      await this.store.writeSnapshot(this.instanceId, JSON.stringify(snapshot), this.everyMs * 3)
    } catch (error) {
      this.absorb('snapshot', error)
    }
  }
}

/** The snapshots live instances of this namespace wrote, except `exclude`'s. */
export async function readSnapshots(
  store: Pick<RedisProtocol, 'readSnapshots'> | undefined,
  exclude: string,
): Promise<InstanceSnapshot[]> {
  if (store === undefined) return []
  const found: InstanceSnapshot[] = []
  for (const raw of await store.readSnapshots()) {
    try {
      const snapshot = snapshotSchema.parse(JSON.parse(raw))
      if (snapshot.instanceId !== exclude) found.push(snapshot)
    } catch {
      // An unreadable snapshot (another version) is skipped, not fatal to the report.
    }
  }
  return found.sort((a, b) => a.instanceId.localeCompare(b.instanceId))
}
