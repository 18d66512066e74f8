import { createHash } from 'node:crypto'

/** One dependency (see dependencies.ts) and the version of its generation counter. */
export interface DependencyVersion {
  readonly dependency: string
  readonly version: string
}

/**
 * The generation versions a fill is fenced by, captured before its loader started: the fill lands only if
 * every one still holds, so an invalidation that happened meanwhile turns it into a no-op. Built only by the
 * Redis protocol (which alone knows where each part lives and in which argument it travels).
 */
export interface Fence {
  /** The key's generation: bumped by `delete`, `set` and key invalidations. Not recorded in the entry (those delete it). */
  readonly keyGeneration: string
  /** Bumped by every pattern invalidation, which deletes what matches. Not recorded either. */
  readonly patternEpoch: string
  /** Bumped by an emergency clear. Recorded in every entry. */
  readonly namespaceGeneration: string
  /** The entry's own dependencies (tags, scopes, cached function) in the order of its options. Recorded. */
  readonly dependencies: readonly DependencyVersion[]
}

/** What an entry records of its fence: a read checks these against the current counters. */
export interface Recorded {
  readonly namespaceGeneration: string
  readonly dependencies: readonly DependencyVersion[]
}

/** When an entry stops being fresh, stops being a grace fallback, and when it was filled (ms since the epoch). */
export interface EntryTimes {
  readonly expiresAt: number
  readonly graceEnd: number
  readonly createdAt: number
}

/** What a fill or `set` records: the fence's recorded part. */
export function recordedOf(fence: Fence): Recorded {
  return { namespaceGeneration: fence.namespaceGeneration, dependencies: fence.dependencies }
}

/** A memory-only entry records no versions (there is no Redis to hold counters). */
export function unversioned(deps: readonly string[]): Recorded {
  return { namespaceGeneration: '', dependencies: deps.map((dep) => ({ dependency: dep, version: '' })) }
}

/**
 * The identity of one fill: its recorded versions and times, equal for every copy of it (loader answer,
 * L2 read, L1 hit, on any instance). `generationOf` hashes it on request.
 */
export function stampOf(recorded: Recorded, times: EntryTimes): string {
  let stamp = recorded.namespaceGeneration
  for (const { dependency, version } of recorded.dependencies) stamp += `\0${dependency}\0${version}`
  return `${stamp}\0${times.expiresAt}\0${times.graceEnd}\0${times.createdAt}`
}

/** A read's generation: a short hash of its stamp, computed only when a caller asks for it. */
export function generationOf(stamp: string): string {
  return createHash('sha256').update(stamp).digest('base64url').slice(0, 16)
}
