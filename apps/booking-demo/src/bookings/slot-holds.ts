import { readFileSync } from 'node:fs'
import type { Cluster, Redis } from 'ioredis'

/** The app's Lua scripts sit beside `migrations/`; the same relative path from `src/` and `dist/`. */
const RELEASE_HOLD = readFileSync(new URL('../../lua/release-hold.lua', import.meta.url), 'utf8')

/**
 * Short Redis holds on a staff member's start time while a booking saga runs: concurrent attempts at the
 * same time are turned away before they reach the database. Only a courtesy: the exclusion constraint in
 * PostgreSQL is what refuses overlaps, and a hold expires on its own if its saga dies.
 */
export class SlotHolds {
  constructor(
    private readonly redis: Redis | Cluster,
    private readonly holdMs: number,
  ) {}

  /** True when `owner` now holds the time (also when it already did: a retried step takes its own hold). */
  async take(staffId: string, startsAt: string, owner: string): Promise<boolean> {
    const key = holdKey(staffId, startsAt)
    const taken = await this.redis.set(key, owner, 'PX', this.holdMs, 'NX')
    return taken === 'OK' || (await this.redis.get(key)) === owner
  }

  async release(staffId: string, startsAt: string, owner: string): Promise<void> {
    await this.redis.eval(RELEASE_HOLD, 1, holdKey(staffId, startsAt), owner)
  }
}

function holdKey(staffId: string, startsAt: string): string {
  return `booking-demo:hold:${staffId}:${new Date(startsAt).toISOString()}`
}
