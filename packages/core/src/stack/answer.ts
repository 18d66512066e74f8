import type { EntryTimes, Recorded } from './fence.js'

/** Which tier answered a read. */
export type Tier = 'l1' | 'l2' | 'loader'

/** A read's answer with what identifies the fill it came from (hashed into a generation only on request). */
export interface Answer<T> {
  readonly value: T
  readonly tier: Tier
  readonly recorded: Recorded
  readonly times: EntryTimes
  /** When the loader ran: what its fill did (undefined when it answered undefined, which is not cached). */
  readonly fill?: FillOutcome
  /** When a grace value answered instead of the loader: why. */
  readonly failSafe?: FailSafeReason
}

/** Why a grace value answered instead of the loader. */
export type FailSafeReason = 'error' | 'soft-timeout' | 'hard-timeout'

/** What a fill did: `stale` when an invalidation meanwhile made it a no-op; `not-written` when Redis failed. */
export type FillOutcome = 'filled' | 'stale' | 'not-written'

export interface Filled<T> {
  readonly outcome: FillOutcome
  /** The value as every tier and instance serves it (decoded from what was stored). */
  readonly value: T
  readonly recorded: Recorded
  readonly times: EntryTimes
}
