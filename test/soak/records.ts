import type { Fault } from '../../packages/core/src/test-support/faults.js'

/**
 * What a soak node reports, kept compact because a run produces hundreds of thousands of reads.
 * Times are ms on one machine-wide clock (`now()`), so records of different processes compare.
 */

/** A read: item, the source version it returned, when it started and ended, and which tier answered. */
export type ReadRecord = [item: number, version: number, start: number, end: number, tier: 0 | 1 | 2]

/** A committed change and its invalidation: the version it wrote, how, and when invalidate() resolved. */
export interface InvalidationRecord {
  item: number
  version: number
  kind: InvalidationKind
  /** When the source of truth was bumped. */
  committedAt: number
  /** When `invalidate()` resolved; a failed call is retried until it resolves. */
  resolvedAt: number
  /** Calls that rejected before this one resolved. */
  failedAttempts: number
  /** False when Redis had not accepted the bus message when the call resolved (it waits in the retry queue). */
  published: boolean
  /** The longest of its calls (the failed ones included), in ms. */
  slowestCallMs: number
}

/**
 * A freshness mechanism the soak can switch off in every cache process, to show that it then fails: core's own
 * deliberate defects (`packages/core/src/test-support/faults.ts`).
 */
export const DEFECTS = [
  'dropBusMessages',
  'fillWithoutGenerationCheck',
  'skipL1Delete',
  'skipTagBump',
] as const satisfies readonly Fault[]
export type Defect = (typeof DEFECTS)[number]

export const INVALIDATION_KINDS = ['key', 'tag', 'pattern', 'scope'] as const
export type InvalidationKind = (typeof INVALIDATION_KINDS)[number]

/** A batch one node sends its parent. */
export interface NodeBatch {
  node: number
  reads: ReadRecord[]
  invalidations: InvalidationRecord[]
  errors: Record<string, number>
  /** Calls still pending when traffic stopped (a call that hangs), by what they were doing. */
  hung: string[]
}

/** What a node answers when asked for its final read of every item. */
export interface FinalReads {
  node: number
  versions: number[]
}

/** A wall-clock time with sub-millisecond resolution that is the same clock in every process. */
export function now(): number {
  return performance.timeOrigin + performance.now()
}

export const itemKey = (item: number) => `soak:item:${item}`
export const itemTag = (item: number) => `item-${item}`
export const itemScope = (item: number) => `soak/${item % 4}/${item}`
export const truthKey = (item: number) => `truth:${item}`
