import { Redis } from 'ioredis'
import { LRUCache } from 'lru-cache'
import { compare, fmtOps, fmtUs, type Op, ratio, type Throughput, table } from '../measure.js'
import type { ContenderCache, ContenderOptions } from '../peers.js'

export type ContenderFactory = (options: ContenderOptions) => ContenderCache

/** A typical cached availability answer: a day of slots for one staff member. */
export const SAMPLE_VALUE = {
  staffId: 7,
  date: '2026-11-22',
  slots: Array.from({ length: 16 }, (_, i) => ({
    start: `${9 + Math.floor(i / 2)}:${i % 2 ? '30' : '00'}`,
    free: i % 3 !== 0,
  })),
}

interface Contenders {
  [name: string]: ContenderFactory
}

async function withCaches<T>(
  factories: Contenders,
  options: Omit<ContenderOptions, 'namespace'>,
  run: (caches: Record<string, ContenderCache>) => Promise<T>,
): Promise<T> {
  const caches: Record<string, ContenderCache> = {}
  for (const [name, factory] of Object.entries(factories)) {
    caches[name] = factory({
      ...options,
      namespace: `bench-${name}-${Math.random().toString(36).slice(2, 8)}`,
    })
  }
  try {
    return await run(caches)
  } finally {
    await Promise.all(Object.values(caches).map((c) => c.close()))
  }
}

const KEYS = 1_000
const keyOf = (i: number) => `availability:${i % KEYS}`

function cycling(fn: (key: string) => unknown): Op {
  let i = 0
  return () => fn(keyOf(i++))
}

/** Rows of ops/s (and latency when measured), the share of the baseline, and the subject's speed-up over each. */
function comparisonTable(result: Record<string, Throughput>, baseline: string, subject: string): string {
  const base = result[baseline]?.opsPerSec ?? 0
  const mine = result[subject]?.opsPerSec ?? 0
  const withLatency = Object.values(result).some((t) => t.p50Us !== undefined)
  const header = [
    'contender',
    'ops/s',
    ...(withLatency ? ['p50', 'p99'] : []),
    `vs ${baseline}`,
    `${subject} vs it`,
  ]
  const rows = Object.entries(result).map(([name, t]) => [
    name,
    fmtOps(t.opsPerSec),
    ...(withLatency ? [fmtUs(t.p50Us), fmtUs(t.p99Us)] : []),
    ratio(t.opsPerSec, base),
    name === subject ? '-' : `${(mine / t.opsPerSec).toFixed(2)}x`,
  ])
  return table(header, rows)
}

export interface CacheReadsOptions {
  redisUrl: string
  contenders: Contenders
  /** The contender the ratios are about. */
  subject: string
  ops: number
  rounds: number
}

export async function runCacheReadsBench(options: CacheReadsOptions): Promise<string> {
  const { redisUrl, contenders, subject, ops, rounds } = options
  const raw = new Redis(redisUrl)
  const rawPrefix = `bench-raw-${Math.random().toString(36).slice(2, 8)}:`
  const serialized = JSON.stringify(SAMPLE_VALUE)
  for (let i = 0; i < KEYS; i++) await raw.set(rawPrefix + keyOf(i), serialized)
  const lru = new LRUCache<string, object>({ max: 100_000 })
  for (let i = 0; i < KEYS; i++) lru.set(keyOf(i), SAMPLE_VALUE)
  const sections: string[] = []

  // L1 hits: every key is in memory.
  const l1 = await withCaches(contenders, { redisUrl, l1: true }, async (caches) => {
    for (const cache of Object.values(caches))
      for (let i = 0; i < KEYS; i++) await cache.set(keyOf(i), SAMPLE_VALUE)
    const ops_: Record<string, Op> = { 'raw lru-cache get': cycling((k) => lru.get(k)) }
    for (const [name, cache] of Object.entries(caches)) ops_[name] = cycling((k) => cache.get(k))
    return compare(ops_, { ops: ops * 10, rounds })
  })
  sections.push(
    '### L1 hit (memory), sequential\n\n' +
      'Every call is awaited in the same loop, the raw `lru-cache` get included, so the loop costs the same for all.\n\n' +
      comparisonTable(l1, 'raw lru-cache get', subject),
  )

  // L2 hits: memory tier off, so every read is a Redis round trip.
  await withCaches(contenders, { redisUrl, l1: false }, async (caches) => {
    for (const cache of Object.values(caches))
      for (let i = 0; i < KEYS; i++) await cache.set(keyOf(i), SAMPLE_VALUE)
    const ops_: Record<string, Op> = { 'raw ioredis GET': cycling((k) => raw.get(rawPrefix + k)) }
    for (const [name, cache] of Object.entries(caches)) ops_[name] = cycling((k) => cache.get(k))
    for (const concurrency of [undefined, 50]) {
      const result = await compare(ops_, {
        ops,
        rounds,
        recordLatency: true,
        ...(concurrency ? { concurrency } : {}),
      })
      sections.push(
        `### L2 hit (Redis), ${concurrency ? `${concurrency} concurrent` : 'sequential'}\n\n` +
          comparisonTable(result, 'raw ioredis GET', subject),
      )
    }
  })

  // Miss then fill: every call is a new key; the loader answers at once.
  await withCaches(contenders, { redisUrl, l1: true }, async (caches) => {
    let n = 0
    const ops_: Record<string, Op> = {
      'raw ioredis GET+SET': async () => {
        const key = `${rawPrefix}miss:${n++}`
        if ((await raw.get(key)) === null) await raw.set(key, serialized, 'PX', 600_000)
      },
    }
    for (const [name, cache] of Object.entries(caches)) {
      ops_[name] = () => cache.getOrSet(`miss:${n++}`, async () => SAMPLE_VALUE)
    }
    const result = await compare(ops_, { ops, rounds })
    sections.push(
      '### Miss then fill, sequential\n\n' + comparisonTable(result, 'raw ioredis GET+SET', subject),
    )
  })

  raw.disconnect()
  return sections.join('\n\n')
}
