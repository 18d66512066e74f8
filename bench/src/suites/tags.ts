import { performance } from 'node:perf_hooks'
import { Redis } from 'ioredis'
import { fmtOps, median, table } from '../measure.js'
import type { ContenderFactory } from './cache-reads.js'
import { SAMPLE_VALUE } from './cache-reads.js'

const TAG = 'staff:7'
/** Writes and reads in flight while filling the tiers (setup, not measured). */
const FILL_CONCURRENCY = 200

export interface TagsOptions {
  redisUrl: string
  contenders: Record<string, ContenderFactory>
  sizes: number[]
  /** Entries each instance's memory tier holds: the tagged keys plus untagged ones (a full L1, as in production). */
  l1Entries: number
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
  /** From the call to the other instance having applied it (undefined: the contender has no bus). */
  receivedMs: number | undefined
  /** The longest the event loop was held up between the call and the other instance applying it. */
  stallMs: number
  readAfterOps: number
  plainMissOps: number
  /** Tagged keys that still answered a value after the invalidation resolved (on either instance). */
  staleReads: number
}

async function inParallel(count: number, work: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < count) await work(next++)
  }
  await Promise.all(Array.from({ length: FILL_CONCURRENCY }, worker))
}

/** Sequential awaited reads of `keys`: ops/s, and how many answered a value. */
async function readAll(read: (key: string) => Promise<unknown>, keys: string[]) {
  let found = 0
  const started = performance.now()
  for (const key of keys) if ((await read(key)) !== undefined) found++
  return { ops: (keys.length / (performance.now() - started)) * 1000, found }
}

/**
 * The longest the event loop went without a turn while it runs: a setImmediate chain notes the gap between
 * consecutive turns (a histogram sampler such as monitorEventLoopDelay has too coarse a period for a window
 * of a millisecond or two).
 */
function stallMeter(): { stop(): number } {
  let last = performance.now()
  let longest = 0
  let running = true
  const tick = () => {
    const now = performance.now()
    longest = Math.max(longest, now - last)
    last = now
    if (running) setImmediate(tick)
  }
  setImmediate(tick)
  return {
    stop() {
      running = false
      return Math.max(longest, performance.now() - last)
    },
  }
}

/** `count` keys spread evenly over `size`, so a sample reads the whole range. */
function spread(prefix: string, size: number, count: number): string[] {
  const n = Math.min(size, count)
  return Array.from({ length: n }, (_, i) => `${prefix}${Math.floor((i * size) / n)}`)
}

async function measure(name: string, factory: ContenderFactory, options: TagsOptions, size: number) {
  const namespace = `bench-tags-${name}-${Math.random().toString(36).slice(2, 8)}`
  const make = () => factory({ redisUrl: options.redisUrl, namespace, l1: true, bus: true })
  // The instance that invalidates, and another one that only receives the invalidation.
  const writer = make()
  const receiver = make()
  const tags = writer.tags
  if (tags === undefined || receiver.tags === undefined) throw new Error(`${name} has no tag support`)
  const receiverTags = receiver.tags
  try {
    const filler = Math.max(0, options.l1Entries - size)
    // Both memory tiers full: the tagged keys and untagged ones, written by one and read by the other.
    await inParallel(size, (i) => tags.set(`availability:${i}`, SAMPLE_VALUE, [TAG]))
    await inParallel(filler, (i) => writer.set(`other:${i}`, SAMPLE_VALUE))
    await inParallel(size, (i) => receiverTags.get(`availability:${i}`, [TAG]))
    await inParallel(filler, (i) => receiver.get(`other:${i}`))
    // A first invalidation of another tag, so no contender's timing includes its own warm-up.
    await tags.invalidate(`${TAG}:warm-up`)
    await new Promise((resolve) => setTimeout(resolve, 20))
    const missBefore = await readAll((key) => writer.get(key), spread('absent:a:', size, options.reads))
    let received: number | undefined
    let started = 0
    const applied = new Promise<void>((resolve) => {
      if (receiver.onRemoteInvalidation === undefined) return resolve()
      receiver.onRemoteInvalidation(() => {
        received ??= performance.now() - started
        resolve()
      })
    })
    const stall = stallMeter()
    started = performance.now()
    await tags.invalidate(TAG)
    const invalidateMs = performance.now() - started
    await Promise.race([applied, new Promise((resolve) => setTimeout(resolve, 2_000))])
    const stallMs = stall.stop()
    const sample = spread('availability:', size, options.reads)
    const after = await readAll((key) => tags.get(key, [TAG]), sample)
    const elsewhere = await readAll((key) => receiverTags.get(key, [TAG]), sample)
    const missAfter = await readAll((key) => writer.get(key), spread('absent:b:', size, options.reads))
    return {
      contender: name,
      size,
      invalidateMs,
      receivedMs: receiver.onRemoteInvalidation === undefined ? undefined : received,
      stallMs,
      readAfterOps: after.ops,
      plainMissOps: (missBefore.ops + missAfter.ops) / 2,
      staleReads: after.found + elsewhere.found,
    }
  } finally {
    await writer.close()
    await receiver.close()
  }
}

const ms = (value: number | undefined) => (value === undefined ? '-' : `${value.toFixed(2)} ms`)

/**
 * Tag invalidation at several sizes with full memory tiers on two instances: the time of the invalidation
 * call, the time until the other instance applied it, the longest event-loop stall meanwhile, then reads of
 * the tagged keys (all must miss now, on both instances) against reads of keys that never existed.
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
      '-',
      '-',
      fmtOps(median(rawRounds)),
      '-',
      '-',
    ])
    for (const [name, measured] of rounds) {
      const receivedAll = measured.map((m) => m.receivedMs)
      const r: TagResult = {
        contender: name,
        size,
        invalidateMs: median(measured.map((m) => m.invalidateMs)),
        receivedMs: receivedAll.includes(undefined) ? undefined : median(receivedAll as number[]),
        stallMs: median(measured.map((m) => m.stallMs)),
        readAfterOps: median(measured.map((m) => m.readAfterOps)),
        plainMissOps: median(measured.map((m) => m.plainMissOps)),
        // Any stale read in any round counts: the median would hide one.
        staleReads: measured.reduce((sum, m) => sum + m.staleReads, 0),
      }
      results.push(r)
      rows.push([
        name,
        size.toLocaleString('en'),
        ms(r.invalidateMs),
        ms(r.receivedMs),
        ms(r.stallMs),
        fmtOps(r.readAfterOps),
        fmtOps(r.plainMissOps),
        `${(r.plainMissOps / r.readAfterOps).toFixed(2)}x`,
        String(r.staleReads),
      ])
    }
  }
  raw.disconnect()
  const markdown = [
    `### Tag invalidation with full memory tiers (${options.l1Entries.toLocaleString('en')} entries on each of two instances; ${options.reads.toLocaleString('en')} sequential reads per figure, median of ${options.rounds} rounds)`,
    'One instance writes the tagged keys (and untagged ones up to a full memory tier), a second reads them all ' +
      'into its own. "invalidate" is the call on the first; "applied elsewhere" is the time from that call until ' +
      'the second instance applied the bus message ("-": no bus, its copies stay until their TTL); "longest stall" ' +
      "is the event loop's longest delay from the call until then (both instances run in this process). " +
      '"read after" reads tagged keys once the invalidation resolved (every one must miss, on both instances: ' +
      '"stale reads" counts those that did not); "plain miss" reads keys that never existed, on the same ' +
      'contender; "cost vs plain miss" is how much longer a read after the invalidation takes. Each round tags ' +
      'the keys afresh; "stale reads" adds up every round.',
    table(
      [
        'contender',
        'tagged keys',
        'invalidate',
        'applied elsewhere',
        'longest stall',
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
