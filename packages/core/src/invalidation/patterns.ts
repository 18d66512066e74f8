import { MatchAllRefusedError } from '../errors.js'
import type { RedisProtocol } from '../redis/redis-protocol.js'
import { describe } from './batches.js'
import { matchesEverything, toRegExp } from './glob.js'
import type { InvalidationReport } from './report.js'
import { withRetries } from './retry.js'
import type { PatternProgress } from './target.js'

const SAMPLE_SIZE = 10

/** A validated pattern: the user's glob and its L1 matcher. */
export interface PatternItem {
  glob: string
  regex: RegExp
}

/** What removing matching entries needs: L2's SCAN and pattern epoch, or (memory only) the keys of L1. */
export interface PatternStore {
  l2: Pick<RedisProtocol, 'scanEntries' | 'bumpPatternEpoch'> | undefined
  l1Keys(): Iterable<string>
}

/** Refuses match-all globs unless `all` is set, before anything is touched. */
export function patternItems(globs: readonly string[], all: boolean): PatternItem[] {
  return globs.map((glob, index) => {
    if (matchesEverything(glob) && !all) {
      throw new MatchAllRefusedError(glob, `target.patterns.${index}`)
    }
    return { glob, regex: toRegExp(glob) }
  })
}

/**
 * SCAN + UNLINK per pattern on every master. The pattern epoch is bumped first: a fill that
 * captured the epoch before this call is rejected, so it cannot resurrect a key the scan removed.
 */
export async function removeMatching(
  store: PatternStore,
  items: readonly PatternItem[],
  dryRun: boolean,
  report: InvalidationReport,
  onProgress?: (progress: PatternProgress) => void,
): Promise<void> {
  const l2 = store.l2
  if (l2 === undefined) {
    for (const item of items) {
      const sample = [...store.l1Keys()].filter((key) => item.regex.test(key))
      report.patterns.push({
        pattern: item.glob,
        matched: sample.length,
        sample: sample.slice(0, SAMPLE_SIZE),
      })
      report.counts.patterns++
    }
    return
  }
  if (!dryRun && items.length > 0) {
    try {
      await withRetries(() => l2.bumpPatternEpoch())
    } catch (error) {
      for (const item of items)
        report.errors.push({ kind: 'patterns', target: item.glob, error: describe(error) })
      return
    }
  }
  for (const item of items) {
    let matched = 0
    const sample: string[] = []
    try {
      await withRetries(async () => {
        matched = 0
        sample.length = 0
        let scanned = 0
        await l2.scanEntries(
          item.glob,
          async (page) => {
            for (const key of page.keys) if (sample.length < SAMPLE_SIZE) sample.push(key)
            if (dryRun) matched += page.keys.length
            else {
              const removed = await page.unlink()
              matched += removed
              report.removed += removed
            }
          },
          (walked) => {
            scanned += walked
            onProgress?.({ pattern: item.glob, scanned, matched })
          },
        )
      })
      report.patterns.push({ pattern: item.glob, matched, sample })
      report.counts.patterns++
    } catch (error) {
      report.errors.push({ kind: 'patterns', target: item.glob, error: describe(error) })
    }
  }
}
