import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { type RedisServer, startRedis } from '@cachesaga/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { APP_DIRECTORY } from '../demo/child-process.js'
import { createTestDatabase, type TestDatabase } from '../test-support/test-database.js'
import type { LoadReport } from './load-report.js'

// The load command for three seconds, on this run's PostgreSQL and a private Redis: a check that it runs and
// that what it reports parses, not a measurement (its full run is a benchmark).
let db: TestDatabase
let redis: RedisServer
let directory: string
beforeAll(async () => {
  db = await createTestDatabase('load')
  redis = await startRedis({ allowExternal: false })
  directory = await mkdtemp(join(tmpdir(), 'booking-load-'))
}, 60_000)
afterAll(async () => {
  await rm(directory, { recursive: true, force: true })
  await redis?.stop()
  await db?.drop()
})

describe('the load command', () => {
  it('runs briefly, prints a report that parses, and replaces only its own section of the results file', async () => {
    const out = join(directory, 'RESULTS.md')
    await writeFile(
      out,
      '# Benchmark results\n\n## Booking demo under load\n\nold figures\n\n## Queue\n\nkept\n',
    )
    const { stdout } = await promisify(execFile)(
      'node',
      ['--import', 'tsx', 'src/load/load-main.ts', '--duration', '3', '--rate', '20', '--out', out],
      {
        cwd: APP_DIRECTORY,
        env: { ...process.env, DATABASE_URL: db.url, REDIS_URL: redis.url },
        timeout: 150_000,
      },
    )
    const line = stdout.split('\n').find((text) => text.startsWith('LOAD_RESULT '))
    expect(line).toBeDefined()
    const report = JSON.parse(line!.slice('LOAD_RESULT '.length)) as LoadReport
    expect(report.setup).toMatchObject({ apis: 2, workers: 2, staff: 20, connections: 50, durationS: 3 })
    expect(report.reads.perSecond).toBeGreaterThan(0)
    expect(report.reads.non2xx).toBe(0)
    expect(report.writes.book.count).toBeGreaterThan(0)
    expect(report.writes.book.failed).toBe(0)
    expect(report.writes.book.p99).toBeGreaterThanOrEqual(report.writes.book.p50)
    expect(report.cache.reads).toBeGreaterThan(report.cache.databaseLoads)
    expect(report.freshness.changes).toBe(
      report.writes.book.count + report.writes.cancel.count + report.writes.reschedule.count,
    )
    expect(report.freshness.staleOnCommitting).toBe(0)
    expect(report.freshness.staleAfterWindow).toBe(0)
    expect(report.freshness.busLag.count).toBeGreaterThan(0)
    const results = await readFile(out, 'utf8')
    expect(results).not.toContain('old figures')
    expect(results).toMatch(
      /## Booking demo under load\n\nFrom `pnpm --filter @cachesaga\/booking-demo load`/,
    )
    expect(results).toContain('## Queue\n\nkept\n')
  }, 180_000)
})
