import { performance } from 'node:perf_hooks'
import { createCache } from '@cachesaga/core'
import { Redis } from 'ioredis'
import { fmtOps, fmtUs, table } from '../measure.js'
import { SAMPLE_VALUE } from './cache-reads.js'

const FILL_CONCURRENCY = 200
/** Keys that must survive: the SCAN walks past them. */
const BYSTANDERS_PER_MATCH = 0.1
const SCAN_COUNT = 500

export interface PatternsOptions {
  redisUrl: string
  /** Keys matching the pattern. */
  keys: number
}

/** One pattern invalidation: how long, how many keys went, and the slowest command Redis ran meanwhile. */
export interface PatternResult {
  contender: string
  removed: number
  survivors: number
  ms: number
  commands: number
  slowestUs: number
  slowestCommand: string
}

interface SlowlogEntry {
  durationUs: number
  command: string
}

/** Every command Redis ran while `run` executed (the slowlog threshold is 0 for the whole suite). */
async function slowlogDuring(admin: Redis, run: () => Promise<void>): Promise<SlowlogEntry[]> {
  await admin.slowlog('RESET')
  await run()
  const raw = (await admin.slowlog('GET', -1)) as Array<[number, number, number, string[]]>
  return raw
    .map(([, , durationUs, args]) => ({ durationUs, command: String(args[0] ?? '').toUpperCase() }))
    .filter((e) => e.command !== 'SLOWLOG')
}

async function fill(count: number, write: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0
  const writer = async () => {
    while (next < count) await write(next++)
  }
  await Promise.all(Array.from({ length: FILL_CONCURRENCY }, writer))
}

function summarise(contender: string, removed: number, survivors: number, ms: number, log: SlowlogEntry[]) {
  const slowest = log.reduce<SlowlogEntry>((a, b) => (b.durationUs > a.durationUs ? b : a), {
    durationUs: 0,
    command: '-',
  })
  return {
    contender,
    removed,
    survivors,
    ms,
    commands: log.length,
    slowestUs: slowest.durationUs,
    slowestCommand: slowest.command,
  }
}

async function cachesagaRun(options: PatternsOptions, admin: Redis): Promise<PatternResult> {
  const namespace = `bench-patterns-${Math.random().toString(36).slice(2, 8)}`
  // The default L1 (10,000 entries), full of the keys just set: a pattern invalidation also walks it.
  const cache = createCache({ namespace, redis: options.redisUrl, ttl: 600_000 })
  try {
    const bystanders = Math.round(options.keys * BYSTANDERS_PER_MATCH)
    await fill(options.keys, (i) => cache.set(`patch:${i}`, SAMPLE_VALUE))
    await fill(bystanders, (i) => cache.set(`ghost:session:${i}`, SAMPLE_VALUE))
    let removed = 0
    let ms = 0
    const log = await slowlogDuring(admin, async () => {
      const started = performance.now()
      // One SCAN walk over the whole keyspace takes longer than the default deadline (`invalidate.timeout`, 2 s)
      // at this size; a caller walking such a keyspace gives the call the time it needs, as the CLI's clear does.
      const report = await cache.invalidate({ patterns: ['patch:*'] }, { timeout: '60s' })
      ms = performance.now() - started
      removed = report.removed
    })
    let survivors = 0
    for (let i = 0; i < bystanders; i += Math.max(1, Math.floor(bystanders / 100)))
      if ((await cache.get(`ghost:session:${i}`)) !== undefined) survivors++
    return summarise('cachesaga `invalidate({ patterns })`', removed, survivors, ms, log)
  } finally {
    await cache.close()
  }
}

/** The baseline: the same walk by hand with ioredis, SCAN MATCH then UNLINK per batch. */
async function rawRun(options: PatternsOptions, admin: Redis): Promise<PatternResult> {
  const prefix = `bench-patterns-raw-${Math.random().toString(36).slice(2, 8)}:`
  const redis = new Redis(options.redisUrl)
  const value = JSON.stringify(SAMPLE_VALUE)
  try {
    await fill(options.keys, (i) => redis.set(`${prefix}patch:${i}`, value))
    let removed = 0
    let ms = 0
    const log = await slowlogDuring(admin, async () => {
      const started = performance.now()
      let cursor = '0'
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}patch:*`, 'COUNT', SCAN_COUNT)
        cursor = next
        if (keys.length > 0) removed += await redis.unlink(...keys)
      } while (cursor !== '0')
      ms = performance.now() - started
    })
    return summarise(`raw ioredis SCAN + UNLINK (COUNT ${SCAN_COUNT})`, removed, -1, ms, log)
  } finally {
    redis.disconnect()
  }
}

/**
 * Pattern invalidation of `keys` keys among bystanders: throughput, and the slowest single command
 * in Redis's SLOWLOG (threshold 0 during the suite, so every command is logged) against the 10 ms bound.
 */
export async function runPatternsBench(
  options: PatternsOptions,
): Promise<{ markdown: string; results: PatternResult[] }> {
  const admin = new Redis(options.redisUrl)
  const saved = (await admin.config('GET', 'slowlog-*')) as string[]
  await admin.config('SET', 'slowlog-log-slower-than', '0', 'slowlog-max-len', '1000000')
  const results: PatternResult[] = []
  try {
    results.push(await cachesagaRun(options, admin))
    results.push(await rawRun(options, admin))
  } finally {
    await admin.config('SET', ...saved)
    admin.disconnect()
  }
  const rows = results.map((r) => [
    r.contender,
    r.removed.toLocaleString('en'),
    `${r.ms.toFixed(0)} ms`,
    fmtOps((r.removed / r.ms) * 1000),
    r.commands.toLocaleString('en'),
    `${fmtUs(r.slowestUs)} (${r.slowestCommand})`,
    r.survivors < 0 ? '-' : `${r.survivors}/100 sampled`,
  ])
  const markdown = [
    `### Pattern invalidation of ${options.keys.toLocaleString('en')} keys`,
    `\`patch:*\` over ${options.keys.toLocaleString('en')} matching keys and ${Math.round(options.keys * BYSTANDERS_PER_MATCH).toLocaleString('en')} ` +
      '`ghost:session:*` bystanders that must survive. "slowest command" is the longest single command in ' +
      "Redis's SLOWLOG during the invalidation (threshold set to 0 for this suite), which must stay under 10 ms; " +
      'BentoCache, cache-manager and cacheable have no pattern invalidation.',
    table(
      ['contender', 'keys removed', 'time', 'keys/s', 'Redis commands', 'slowest command', 'bystanders kept'],
      rows,
    ),
  ].join('\n\n')
  return { markdown, results }
}
