import { FAULT_KINDS } from './fault-plan.js'
import type { SoakOptions } from './run-soak.js'
import type { Bounds } from './staleness-checker.js'

/**
 * The bounds the soak judges by: the documented ones of @cachesaga/core with its defaults, which the cache
 * processes use (packages/core/README.md, "The freshness guarantee" and "Restarts, rollbacks and failovers").
 */
export const BOUNDS: Bounds = {
  busBoundMs: 1_000,
  // bus.outageBound
  outageBoundMs: 5_000,
  // l1.maxAge
  l1MaxAgeMs: 60_000,
  slackMs: 1_000,
  // The soak's rollback is a restart from an older snapshot: the server check runs before any other command on
  // the new connection, so the README states no window at all for it.
  rollbackWindowMs: 0,
  // invalidate.timeout; a read is a few commands of l2.timeout (250 ms) each and a loader of at most 80 ms.
  callBoundMs: 2_000,
}

/** A soak with the defaults `pnpm soak` uses. */
export function soakOptions(
  overrides: Partial<SoakOptions> & Pick<SoakOptions, 'durationMs' | 'seed'>,
): SoakOptions {
  return {
    nodes: 3,
    items: 20,
    readersPerNode: 4,
    writeEveryMs: 40,
    faults: FAULT_KINDS,
    faultEveryMs: [2_000, 5_000],
    bounds: BOUNDS,
    log: () => {},
    ...overrides,
  }
}
