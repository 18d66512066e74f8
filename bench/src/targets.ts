import { table } from './measure.js'

/** The goals the issues set (issue 3: the cache engine; issue 4: invalidation; issue 13: sagas). */
export const TARGETS = {
  /** Share of a raw lru-cache get. */
  l1Hit: 0.3,
  /** Share of a raw ioredis GET, sequential and at 50 concurrent. */
  l2HitSequential: 0.85,
  l2HitConcurrent: 0.8,
  /** Share of a raw ioredis GET + SET. */
  missThenFill: 0.8,
  /** Loader runs for a stampede over two instances with leases on. */
  stampedeLoaderRuns: 1,
  /** Tag invalidation at 100k tagged keys, ms. */
  tagInvalidateMs: 2,
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
