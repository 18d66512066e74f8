import { MatchAllRefusedError } from '../errors.js'
import type { RedisProtocol } from '../redis/redis-protocol.js'
import type { Deadline } from './deadline.js'
import { matchesEverything, toRegExp } from './glob.js'
import type { InvalidationReport } from './report.js'
import { withRetries } from './retry.js'
import type { Tally } from './tally.js'
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

/** How one invalidation runs its patterns. */
export interface PatternRun {
  dryRun: boolean
  tally: Tally
  deadline: Deadline
  onProgress?: (progress: PatternProgress) => void
}

/** Thrown from a SCAN page after the deadline: the walk stops (the report already says the pattern was not confirmed). */
class DeadlinePassed extends Error {}

/**
 * SCAN + UNLINK per pattern on every master, the patterns in parallel. The pattern epoch is bumped first:
 * a fill that captured the epoch before this call is rejected, so it cannot resurrect a key the scan removed.
 */
export async function removeMatching(
  store: PatternStore,
  items: readonly PatternItem[],
  run: PatternRun,
): Promise<void> {
  const { dryRun, tally, deadline, onProgress } = run
  const books = items.map((item) => ({ kind: 'patterns' as const, target: item.glob }))
  tally.expect(books)
  const l2 = store.l2
  if (l2 === undefined) {
    items.forEach((item, i) => {
      const sample = [...store.l1Keys()].filter((key) => item.regex.test(key))
      tally.applied([books[i]!], {
        matched: [sample.length > 0],
        effect: (report) => {
          report.patterns.push({
            pattern: item.glob,
            matched: sample.length,
            sample: sample.slice(0, SAMPLE_SIZE),
          })
        },
      })
    })
    return
  }
  if (!dryRun && items.length > 0) {
    try {
      await withRetries(() => l2.bumpPatternEpoch(), deadline)
    } catch (error) {
      tally.failed(books, error)
      return
    }
  }
  // The patterns run in parallel; the report lists them in the order they were given.
  const listed: number[] = []
  const list = (report: InvalidationReport, i: number, entry: InvalidationReport['patterns'][number]) => {
    report.patterns.splice(listed.filter((j) => j < i).length, 0, entry)
    listed.push(i)
  }
  await Promise.all(
    items.map(async (item, i) => {
      const sample = new Set<string>()
      // Across attempts: what an attempt unlinked stays unlinked, and a retry will not find it again.
      let removed = 0
      const walk = async (): Promise<number> => {
        let counted = 0
        let scanned = 0
        await l2.scanEntries(
          item.glob,
          async (page) => {
            if (deadline.left === 0) throw new DeadlinePassed()
            for (const key of page.keys) if (sample.size < SAMPLE_SIZE) sample.add(key)
            if (dryRun) counted += page.keys.length
            else removed += await page.unlink()
          },
          (walked) => {
            scanned += walked
            onProgress?.({ pattern: item.glob, scanned, matched: dryRun ? counted : removed })
          },
        )
        return dryRun ? counted : removed
      }
      try {
        const matched = await withRetries(walk, deadline)
        tally.applied([books[i]!], {
          matched: [matched > 0],
          effect: (report) => {
            list(report, i, { pattern: item.glob, matched, sample: [...sample] })
            if (!dryRun) report.removed += removed
          },
        })
      } catch (error) {
        tally.failed([books[i]!], error)
      }
    }),
  )
}
