import { table } from './measure.js'

/** The goals the issues set (issue 3: the cache engine; issue 4: invalidation; issue 11: the cache stack; issue 13: sagas). */
export const TARGETS = {
  /** Share of a raw Map get, sequential getOrSet (issue 11). */
  l1Hit: 0.9,
  /** Share of a raw ioredis GET: sequential (issue 11: 90% of GET + JSON.parse), and at 50 in flight against a raw non-pipelined GET loop. */
  l2HitSequential: 0.72,
  l2HitConcurrent: 1,
  /** Share of a raw ioredis GET + SET, and speed-up over the fastest peer in the same run (issue 11). */
  missThenFill: 0.8,
  missThenFillVsBestPeer: 1.2,
  /** Loader runs for a stampede over two instances with leases on. */
  stampedeLoaderRuns: 1,
  /** Tag invalidation with full memory tiers (100k entries): the call, and applying it on another instance, ms (issue 11). */
  tagInvalidateMs: 1,
  /** Longest event-loop stall around a tag invalidation, ms (issue 11). */
  tagStallMs: 5,
  /** A read after a tag invalidation against a plain miss (time per read). */
  readAfterTagVsPlainMiss: 1.2,
  /** Slowest single Redis command during a 100k-key pattern invalidation, ms. */
  patternSlowestCommandMs: 10,
  /** Sagas/s of the six-step no-op saga at 50 in flight, against the saga package before issue 13 (same run). */
  sagaSpeedupAt50: 2,
} as const

export interface TargetCheck {
  target: string
  goal: string
  measured: string
  met: boolean
}

/** The "Targets" section: one row per goal with what this run measured. */
export function targetsTable(checks: TargetCheck[]): string {
  return table(
    ['target', 'goal', 'measured', ''],
    checks.map((c) => [c.target, c.goal, c.measured, c.met ? 'met' : '**missed**']),
  )
}
