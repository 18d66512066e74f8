/** Where a copy that differs from the source of truth was found. */
export type InconsistentTier = 'l1' | 'l2' | 'source'

/** One copy that differs from what the source of truth (or, for `source`, the external provider) says. */
export interface Inconsistency {
  key: string
  /** `l2` Redis, `l1` an instance's memory, `source` the source of truth disagrees with the external provider (heavy). */
  tier: InconsistentTier
  /** The instance id for `l1`; `redis` for `l2`; `external` for `source`. */
  instance: string
  /** How much longer the copy would have been served fresh, in ms (0 for `source`). */
  servedForMs: number
}

export type CheckLevel = 'light' | 'medium' | 'heavy'

/** What one checker run found. */
export interface ConsistencyReport {
  level: CheckLevel
  /** The run's window (ms since the epoch): every copy was observed, and compared, within it. */
  window: { from: number; to: number }
  /** Entry keys sampled from Redis (SCAN). */
  sampled: number
  /** Copies compared with the source of truth (L2 entries, L1 copies, and in heavy runs source records). */
  checked: number
  /** Sampled keys no verifier covers: not compared. */
  unverified: number
  /** 100 × consistent copies / checked copies; 100 when nothing was checked. */
  consistencyPercent: number
  /**
   * 0 (nothing stale) to 100 (every checked copy stale for a whole TTL to come): each inconsistent
   * copy weighs 0.5 plus 0.5 × the fraction of its TTL (L1: of `l1.maxAge`) it would still be served.
   */
  stalenessScore: number
  inconsistencies: Inconsistency[]
  recommendations: string[]
  /** Keys invalidated because `heal` was set. */
  healed: string[]
}

/** What an operator should look at, from the tiers where copies differed. */
export function recommend(inconsistencies: readonly Inconsistency[], unverified: number): string[] {
  const tiers = new Set(inconsistencies.map((item) => item.tier))
  const advice: string[] = []
  if (tiers.has('l2'))
    advice.push(
      'Redis holds values that differ from the source: check that every write path invalidates after commit (keys, tags, scopes) and that fills go through getOrSet; rerun with heal to invalidate them.',
    )
  if (tiers.has('l1'))
    advice.push(
      'Instances hold L1 copies that differ from the source: check bus delivery (stats().bus.gaps, l1:dropped events) and consider a shorter l1.maxAge.',
    )
  if (tiers.has('source'))
    advice.push(
      'The source of truth differs from the external provider: resynchronise it, then invalidate the affected keys.',
    )
  if (unverified > 0)
    advice.push(`${unverified} sampled key(s) have no verifier: register one to have them checked.`)
  return advice
}
