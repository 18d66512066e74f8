import { performance } from 'node:perf_hooks'
import { Redis } from 'ioredis'
import { fmtOps, median, table } from '../measure.js'
import type { ContenderCache } from '../peers.js'
import type { ContenderFactory } from './cache-reads.js'
import { SAMPLE_VALUE } from './cache-reads.js'

const TAG = 'staff:7'
/** Writes in flight while tagging the keys (setup, not measured). */
const FILL_CONCURRENCY = 200

export interface TagsOptions {
  redisUrl: string
  contenders: Record<string, ContenderFactory>
  sizes: number[]
  /** Sequential reads per measurement (a spread sample of the tagged keys). */
  reads: number
  /** Each figure is the median of this many rounds, contenders interleaved within each round. */
  rounds: number
}

/** One measured tag invalidation of one contender at one size. */
export interface TagResult {
  contender: string
  size: number
  invalidateMs: number
  readAfterOps: number
  plainMissOps: number
  /** Tagged keys that still answered a value after the invalidation resolved. */
  staleReads: number
}

async function tagKeys(tags: NonNullable<ContenderCache['tags']>, size: number): Promise<void> {
  let next = 0
  const writer = async () => {
    while (next < size) await tags.set(`availability:${next++}`, SAMPLE_VALUE, [TAG])
  }
  await Promise.all(Array.from({ length: FILL_CONCURRENCY }, writer))
}

/** Sequential awaited reads of `keys`: ops/s, and how many answered a value. */
async function readAll(cache: ContenderCache, keys: string[]): Promise<{ ops: number; found: number }> {
  let found = 0
  const started = performance.now()
  for (const key of keys) if ((await cache.get(key)) !== undefined) found++
  return { ops: (keys.length / (performance.now() - started)) * 1000, found }
}

/** `count` keys spread evenly over `size`, so a sample reads the whole range. */
function spread(prefix: string, size: number, count: number): string[] {
  const n = Math.min(size, count)
  return Array.from({ length: n }, (_, i) => `${prefix}${Math.floor((i * size) / n)}`)
}

async function measure(name: string, factory: ContenderFactory, options: TagsOptions, size: number) {
  const namespace = `bench-tags-${name}-${Math.random().toString(36).slice(2, 8)}`
  // A one-entry memory tier: every read after the invalidation goes to Redis, as on another instance.
  const cache = factory({ redisUrl: options.redisUrl, namespace, l1: false })
  const tags = cache.tags
  if (tags === undefined) throw new Error(`${name} has no tag support`)
  try {
    await tagKeys(tags, size)
    // A first invalidation of another tag, so no contender's timing includes its own warm-up.
    await tags.invalidate(`${TAG}:warm-up`)
    // Plain misses before and after, averaged, bracket the read-after measurement against drift.
    const missBefore = await readAll(cache, spread('absent:a:', size, options.reads))
    const started = performance.now()
    await tags.invalidate(TAG)
    const invalidateMs = performance.now() - started
    const after = await readAll(cache, spread('availability:', size, options.reads))
    const missAfter = await readAll(cache, spread('absent:b:', size, options.reads))
    return {
      contender: name,
      size,
      invalidateMs,
      readAfterOps: after.ops,
      plainMissOps: (missBefore.ops + missAfter.ops) / 2,
      staleReads: after.found,
    }
  } finally {
    await cache.close()
  }
}

/**
 * Tag invalidation at several sizes: the time of the invalidation call, then reads of the tagged
 * keys (all must miss now) against reads of keys that never existed, on the same contender.
 */
export async function runTagsBench(
  options: TagsOptions,
): Promise<{ markdown: string; results: TagResult[] }> {
  const raw = new Redis(options.redisUrl)
  const results: TagResult[] = []
  const rows: string[][] = []
  for (const size of options.sizes) {
    const rawMisses = spread('bench-tags-raw-absent:', size, options.reads)
    const rawRounds: number[] = []
    const rounds = new Map<string, TagResult[]>()
    for (let round = 0; round < options.rounds; round++) {
      const rawStarted = performance.now()
      for (const key of rawMisses) await raw.get(key)
      rawRounds.push((rawMisses.length / (performance.now() - rawStarted)) * 1000)
      for (const [name, factory] of Object.entries(options.contenders)) {
        const measured = await measure(name, factory, options, size)
        rounds.set(name, [...(rounds.get(name) ?? []), measured])
      }
    }
    rows.push([
      'raw ioredis GET (miss)',
      size.toLocaleString('en'),
      '-',
      '-',
      fmtOps(median(rawRounds)),
      '-',
      '-',
    ])
    for (const [name, measured] of rounds) {
      const r: TagResult = {
        contender: name,
        size,
        invalidateMs: median(measured.map((m) => m.invalidateMs)),
        readAfterOps: median(measured.map((m) => m.readAfterOps)),
        plainMissOps: median(measured.map((m) => m.plainMissOps)),
        // Any stale read in any round counts: the median would hide one.
        staleReads: measured.reduce((sum, m) => sum + m.staleReads, 0),
      }
      results.push(r)
      rows.push([
        name,
        size.toLocaleString('en'),
        `${r.invalidateMs.toFixed(2)} ms`,
        fmtOps(r.readAfterOps),
        fmtOps(r.plainMissOps),
        `${(r.plainMissOps / r.readAfterOps).toFixed(2)}x`,
        String(r.staleReads),
      ])
    }
  }
  raw.disconnect()
  const markdown = [
    `### Tag invalidation (one tag on every key; ${options.reads.toLocaleString('en')} sequential reads per figure, median of ${options.rounds} rounds)`,
    'A one-entry memory tier, so reads after the invalidation reach Redis as they would on another instance. ' +
      '"read after" reads tagged keys once the invalidation resolved (every one must miss: "stale reads" counts ' +
      'those that did not); "plain miss" reads keys that never existed, on the same contender; ' +
      '"cost vs plain miss" is how much longer a read after the invalidation takes. Each round tags the keys afresh; ' +
      '"stale reads" adds up every round.',
    table(
      [
        'contender',
        'tagged keys',
        'invalidate',
        'read after (ops/s)',
        'plain miss (ops/s)',
        'cost vs plain miss',
        'stale reads',
      ],
      rows,
    ),
  ].join('\n\n')
  return { markdown, results }
}
