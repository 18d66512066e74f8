import { execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { promisify } from 'node:util'
import { type RedisServer, startRedis } from '@cachesaga/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase, type TestDatabase } from '../test-support/test-database.js'
import { APP_DIRECTORY } from './child-process.js'

// The demo is given this run's PostgreSQL (DATABASE_URL, durable: the sagas' store is there) instead of starting a
// second embedded one, and a private Redis without persistence (no saga state is in it); everything else (migrations, seed, the processes, the scenario) is what `pnpm demo` runs.
let db: TestDatabase
let redis: RedisServer
beforeAll(async () => {
  db = await createTestDatabase('demo')
  redis = await startRedis({ allowExternal: false })
}, 60_000)
afterAll(async () => {
  await redis?.stop()
  await db?.drop()
})

describe('the demo with --once', () => {
  it('runs every scenario step as expected, stops its processes and exits 0 without a terminal', async () => {
    const { stdout } = await promisify(execFile)('node', ['--import', 'tsx', 'src/demo/main.ts', '--once'], {
      cwd: APP_DIRECTORY,
      env: { ...process.env, DATABASE_URL: db.url, REDIS_URL: redis.url },
      timeout: 150_000,
    })
    const steps = stdout.split('\n').filter((line) => /^[✔✘] /.test(line))
    expect(steps).toHaveLength(7)
    expect(steps.every((line) => line.startsWith('✔'))).toBe(true)
    expect(stdout).toContain('second read: served by l1')
    expect(stdout).toContain('POST /bookings -> 409 BOOKING_ERR_SLOT_TAKEN, saga compensated')
    // Each change of a booking needs its token, and the webhook its signature: the scenario shows both refused.
    expect(stdout).toContain('POST /bookings/:id/cancel without the token -> 403 BOOKING_ERR_FORBIDDEN')
    expect(stdout).toContain('POST /webhooks/calendar unsigned -> 401 BOOKING_ERR_WEBHOOK_SIGNATURE')
    expect(stdout).toMatch(/CalDAV private Radicale at http:\/\/demo:\*\*\*@127\.0\.0\.1:\d+\/demo\//)
    expect(stdout).toContain('another app PUT demo-dentist.ics (DTSTART;TZID=Europe/Berlin:')
    expect(stdout).toContain('Every step behaved as expected.')
    expect(stdout).toMatch(/Stopped: api-1 \(0\), relay \(0\), worker-1 \(0\)/)
  }, 180_000)
})

describe('the demo with --once --cluster', () => {
  it('runs every step on a private 3-master Redis Cluster with two API instances and two workers, and exits 0', async () => {
    const clustered = await createTestDatabase('demo_cluster')
    try {
      const { REDIS_URL: _, ...env } = process.env
      const { stdout } = await promisify(execFile)(
        'node',
        ['--import', 'tsx', 'src/demo/main.ts', '--once', '--cluster'],
        { cwd: APP_DIRECTORY, env: { ...env, DATABASE_URL: clustered.url }, timeout: 170_000 },
      )
      const steps = stdout.split('\n').filter((line) => /^[✔✘] /.test(line))
      expect(steps).toHaveLength(7)
      expect(steps.every((line) => line.startsWith('✔'))).toBe(true)
      expect(stdout).toMatch(/Redis private 3-master Redis Cluster on ports \d+, \d+, \d+/)
      // The second instance saw the booking, the cancellation and the reschedule through the bus.
      expect(stdout.match(/api-2 agrees after [\d.]+ ms/g)).toHaveLength(3)
      expect(stdout).toContain('Every step behaved as expected.')
      expect(stdout).toMatch(/Stopped: api-1 \(0\), api-2 \(0\), relay \(0\), worker-1 \(0\), worker-2 \(0\)/)
    } finally {
      await clustered.drop()
    }
  }, 200_000)
})

describe('the demo without Redis', () => {
  it('stops at once with a message naming both fixes when REDIS_URL is unset and redis-server is not on PATH', async () => {
    const { REDIS_URL: _, ...env } = process.env
    const run = promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/demo/main.ts', '--once'], {
      cwd: APP_DIRECTORY,
      env: { ...env, PATH: '/nonexistent' },
      timeout: 60_000,
    })
    const failure = await run.then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    )
    expect(failure?.code).toBe(1)
    expect(failure?.stderr).toContain('apt-get install redis-server')
    expect(failure?.stderr).toContain('REDIS_URL=redis://')
  }, 60_000)
})

describe('the demo without a calendar server', () => {
  it('stops at once with a message naming both fixes when CALDAV_URL is unset and radicale is not on PATH', async () => {
    const { CALDAV_URL: _, ...env } = process.env
    const run = promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/demo/main.ts', '--once'], {
      cwd: APP_DIRECTORY,
      // Redis is given, so the calendar server is the first thing missing.
      env: { ...env, REDIS_URL: redis.url, PATH: '/nonexistent' },
      timeout: 60_000,
    })
    const failure = await run.then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    )
    expect(failure?.code).toBe(1)
    expect(failure?.stderr).toContain('apt-get install radicale')
    expect(failure?.stderr).toContain('CALDAV_URL=https://')
  }, 60_000)
})

describe('the demo without --once', () => {
  it('keeps serving the dashboard, behind the operator credential it prints, until SIGTERM, then stops every process and exits 0', async () => {
    // Stores of its own: the cache and the queues must not hold the first run's data.
    const served = await createTestDatabase('demo_serve')
    const servedRedis = await startRedis({ allowExternal: false })
    try {
      const demo = spawn(process.execPath, ['--import', 'tsx', 'src/demo/main.ts'], {
        cwd: APP_DIRECTORY,
        env: { ...process.env, DATABASE_URL: served.url, REDIS_URL: servedRedis.url },
        stdio: ['ignore', 'pipe', 'inherit'],
      })
      const exited = once(demo, 'exit')
      const lines: string[] = []
      let dashboard = ''
      const password = await new Promise<string>((resolve) => {
        createInterface({ input: demo.stdout! }).on('line', (line) => {
          lines.push(line)
          dashboard = line.match(/^Dashboard: (\S+)/)?.[1] ?? dashboard
          const printed = line.match(/^ {2}Log in as operator \/ (\S+)$/)?.[1]
          if (printed) resolve(printed)
        })
      })
      // The dashboard asks who is there; the printed credential opens it.
      const stranger = await fetch(dashboard)
      expect(stranger.status).toBe(401)
      expect(stranger.headers.get('www-authenticate')).toMatch(/^Basic realm=/)
      const authorization = `Basic ${Buffer.from(`operator:${password}`).toString('base64')}`
      const page = await fetch(dashboard, { headers: { authorization } })
      expect(page.status).toBe(200)
      expect(await page.text()).toContain('Cache health')
      expect(lines.join('\n')).toMatch(/or as viewer \/ \S+ \(read-only/)
      demo.kill('SIGTERM')
      expect(await exited).toEqual([0, null])
      expect(lines.join('\n')).toMatch(/Stopped: api-1 \(0\), relay \(0\), worker-1 \(0\)/)
    } finally {
      await servedRedis.stop()
      await served.drop()
    }
  }, 180_000)
})
