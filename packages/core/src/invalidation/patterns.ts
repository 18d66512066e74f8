import { MatchAllRefusedError } from '../errors.js'
import type { CacheParts } from '../parts.js'
import { describe } from './batches.js'
import { matchesEverything, toRedisMatch, toRegExp } from './glob.js'
import type { InvalidationReport } from './report.js'
import { withRetries } from './retry.js'
import type { PatternProgress } from './target.js'

const SAMPLE_SIZE = 10

/** A validated pattern: the user's glob, its SCAN MATCH argument, and its L1 matcher. */
export interface PatternItem {
  glob: string
  match: string
  regex: RegExp
}

/** Refuses match-all globs unless `all` is set, before anything is touched. */
export function patternItems(globs: readonly string[], entryPrefix: string, all: boolean): PatternItem[] {
  return globs.map((glob, index) => {
    if (matchesEverything(glob) && !all) {
      throw new MatchAllRefusedError(glob, `target.patterns.${index}`)
    }
    return { glob, match: toRedisMatch(entryPrefix, glob), regex: toRegExp(glob) }
  })
}

/**
 * SCAN + UNLINK per pattern on every master. The pattern epoch is bumped first: a fill that
 * captured the epoch before this call is rejected, so it cannot resurrect a key the scan removed.
 */
export async function removeMatching(
  parts: CacheParts,
  items: readonly PatternItem[],
  dryRun: boolean,
  report: InvalidationReport,
  onProgress?: (progress: PatternProgress) => void,
): Promise<void> {
  const l2 = parts.l2
  if (l2 === undefined) {
    for (const item of items) {
      const sample = [...parts.l1.keys()].filter((key) => item.regex.test(key))
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
      await withRetries(() => l2.bump([parts.layout.patternEpoch]))
    } catch (error) {
      for (const item of items)
        report.errors.push({ kind: 'patterns', target: item.glob, error: describe(error) })
      return
    }
  }
  const prefixLength = parts.layout.entryPrefix.length
  for (const item of items) {
    let matched = 0
    const sample: string[] = []
    try {
      await withRetries(async () => {
        matched = 0
        sample.length = 0
        let scanned = 0
        const progressed = (walked: number) => {
          scanned += walked
          onProgress?.({ pattern: item.glob, scanned, matched })
        }
        await l2.scan(
          item.match,
          async (node, keys) => {
            for (const key of keys) if (sample.length < SAMPLE_SIZE) sample.push(key.slice(prefixLength))
            if (dryRun) matched += keys.length
            else {
              const removed = await l2.unlink(node, keys)
              matched += removed
              report.removed += removed
            }
          },
          progressed,
        )
      })
      report.patterns.push({ pattern: item.glob, matched, sample })
      report.counts.patterns++
    } catch (error) {
      report.errors.push({ kind: 'patterns', target: item.glob, error: describe(error) })
    }
  }
}
