import { type ChildProcess, fork } from 'node:child_process'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { dropReplicationSlot } from '@cachesaga/postgres'
import { startPostgres } from '@cachesaga/testkit'
import { Redis } from 'ioredis'
import pg from 'pg'
import { fmtUs, percentile, table } from '../measure.js'
import { postgresCpuSeconds, redisCpuSeconds } from '../server-cpu.js'
import { BENCH_TABLE_SQL, benchCapture } from './postgres-capture.js'

const CHILD = fileURLToPath(new URL('./postgres-child.ts', import.meta.url))
const ROWS = 1_000
const WRITERS = 4
type Source = 'triggers' | 'replication'

export interface PostgresSourceResult {
  source: Source
  p50Us: number
  p99Us: number
  maxUs: number
  delivered: number
  committed: number
  /** Changes committed per second, as achieved. */
  rate: number
  /** CPU time of the PostgreSQL server (all its processes) and of Redis, as a share of one core. */
  databaseCpu: number
  redisCpu: number
}

function nextMessage(child: ChildProcess, type: string, timeoutMs: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no '${type}' from the consumer within ${timeoutMs} ms`)),
      timeoutMs,
    )
    const onMessage = (message: { type: string }) => {
      if (message.type !== type) return
      clearTimeout(timer)
      child.off('message', onMessage)
      resolve(message)
    }
    child.on('message', onMessage)
  })
}

/**
 * Commit → invalidation applied in a cache in another process, for each change source: `rate` single-row
 * updates per second for `seconds`, each in its own transaction, from `WRITERS` connections. Latency runs
 * from sending the committing statement to the moment the consumer's `cache.invalidate` resolved (one
 * machine, one clock), so it includes the statement and its commit.
 */
export async function runPostgresBench(options: {
  redisUrl: string
  rate: number
  seconds: number
}): Promise<{ markdown: string; results: PostgresSourceResult[] }> {
  const server = await startPostgres({ allowExternal: false })
  const redis = new Redis(options.redisUrl)
  const results: PostgresSourceResult[] = []
  try {
    for (const source of ['triggers', 'replication'] as const) {
      // A database per source, so the other's triggers or publication cost nothing here.
      const database = await server.createDatabase(`bench_${source}`)
      // Commits as PostgreSQL's default makes them (the test server turns synchronous_commit off): the
      // walsender only sends flushed WAL, so an unflushed commit would wait for the WAL writer (200 ms).
      const pool = new pg.Pool({
        connectionString: database.url,
        max: WRITERS,
        options: '-c synchronous_commit=on',
      })
      try {
        await pool.query(BENCH_TABLE_SQL)
        await pool.query('INSERT INTO bench_items SELECT g, 0 FROM generate_series(0, $1) g', [ROWS - 1])
        await benchCapture.install({ database: database.url, source })
        results.push(await measureSource(source, database.url, pool, server.directory!, redis, options))
      } finally {
        await pool.end()
        // A slot pins its database: drop it first.
        if (source === 'replication') await dropReplicationSlot({ database: database.url, slot: 'bench' })
        await database.drop().catch(() => {})
      }
    }
  } finally {
    redis.disconnect()
    await server.stop()
  }
  const rows = results.map((r) => [
    r.source,
    fmtUs(r.p50Us),
    fmtUs(r.p99Us),
    fmtUs(r.maxUs),
    `${r.delivered}/${r.committed}`,
    `${r.rate.toFixed(0)}/s`,
    `${(r.databaseCpu * 100).toFixed(0)}%`,
    `${(r.redisCpu * 100).toFixed(0)}%`,
  ])
  return {
    markdown:
      `### Commit → invalidation applied in another process (${options.rate} changes/s for ${options.seconds} s)\n\n` +
      'Each change is a single-row `UPDATE` in its own transaction from 4 connections; the consumer (a child process ' +
      "with a cachesaga cache, memory tier and bus on) invalidates the row's key. Commits are synchronous " +
      "(PostgreSQL's default; the test server runs with fsync off, so a commit costs no disk flush). Latency runs " +
      'from sending the ' +
      "committing statement to the consumer's `cache.invalidate` resolving. CPU is the share of one core used during " +
      'the run by the whole PostgreSQL server (all its processes) and by Redis. The machine is shared with other ' +
      'agents running tests: compare the two rows with each other, not with other runs.\n\n' +
      table(['source', 'p50', 'p99', 'max', 'delivered', 'achieved rate', 'database CPU', 'Redis CPU'], rows),
    results,
  }
}

async function measureSource(
  source: Source,
  databaseUrl: string,
  pool: pg.Pool,
  directory: string,
  redis: Redis,
  options: { redisUrl: string; rate: number; seconds: number },
): Promise<PostgresSourceResult> {
  const namespace = `bench-pg-${source}-${Math.random().toString(36).slice(2, 8)}`
  const child = fork(CHILD, [source, databaseUrl, options.redisUrl, namespace], {
    execArgv: ['--import', 'tsx'],
    stdio: 'inherit',
  })
  const applied = new Map<number, number>()
  child.on('message', (message: { type: string; applied?: Array<[number, number]> }) => {
    if (message.type === 'applied') for (const [seq, at] of message.applied ?? []) applied.set(seq, at)
  })
  await nextMessage(child, 'ready', 60_000)
  const sentAt = new Map<number, number>()
  const total = options.rate * options.seconds
  const dataDirectory = join(directory, 'data')
  const cpuBefore = { database: postgresCpuSeconds(dataDirectory), redis: await redisCpuSeconds(redis) }
  const start = performance.now()
  let committed = 0
  // A steady schedule: change `seq` is due at start + seq / rate, whatever the previous ones took.
  const writers = Array.from({ length: WRITERS }, async (_, writer) => {
    for (let seq = writer + 1; seq <= total; seq += WRITERS) {
      const due = start + ((seq - 1) * 1000) / options.rate
      const wait = due - performance.now()
      if (wait > 0) await sleep(wait)
      sentAt.set(seq, performance.timeOrigin + performance.now())
      await pool.query('UPDATE bench_items SET v = $1 WHERE id = $2', [seq, seq % ROWS])
      committed++
    }
  })
  await Promise.all(writers)
  const elapsedS = (performance.now() - start) / 1000
  const cpuAfter = { database: postgresCpuSeconds(dataDirectory), redis: await redisCpuSeconds(redis) }
  // Let the last changes arrive (a few seconds at most), then stop the consumer.
  const deadline = performance.now() + 15_000
  while (applied.size < committed && performance.now() < deadline) await sleep(50)
  child.send({ type: 'exit' })
  await nextMessage(child, 'stopped', 20_000).catch(() => {})
  await new Promise((resolve) => (child.exitCode === null ? child.once('exit', resolve) : resolve(undefined)))
  const latenciesUs = [...sentAt]
    .filter(([seq]) => applied.has(seq))
    .map(([seq, sent]) => (applied.get(seq)! - sent) * 1000)
    .sort((a, b) => a - b)
  return {
    source,
    p50Us: percentile(latenciesUs, 50),
    p99Us: percentile(latenciesUs, 99),
    maxUs: latenciesUs[latenciesUs.length - 1] ?? Number.NaN,
    delivered: latenciesUs.length,
    committed,
    rate: committed / elapsedS,
    databaseCpu: (cpuAfter.database - cpuBefore.database) / elapsedS,
    redisCpu: (cpuAfter.redis - cpuBefore.redis) / elapsedS,
  }
}
