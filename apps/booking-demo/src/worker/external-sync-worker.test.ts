import { DEFAULT_QUEUE_PREFIX, QueueAdmin } from '@cachesaga/queue'
import { Queue } from 'bullmq'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CalDavCalendarProvider } from '../calendar/caldav/caldav-calendar-provider.js'
import { type Appointment, OtherCalendarApp } from '../calendar/caldav/other-calendar-app.js'
import { syncCalendar } from '../calendar/sync-calendar.js'
import { type ApiClient, waitFor } from '../demo/api-client.js'
import { demoIds } from '../seed/seed-demo-data.js'
import { type RunningStack, startRunningStack } from '../test-support/running-stack.js'

/**
 * The test plays the calendar provider: it signs its webhooks with the stack's secret and posts them to the API,
 * which queues the syncs. One worker, which notices a dead worker's job after 2 s instead of ~15 s. Each test uses
 * its own staff calendar state; the stack's Radicale holds the calendars.
 */
let stack: RunningStack
let api: ApiClient
let admin: QueueAdmin
let otherApp: OtherCalendarApp
let provider: CalDavCalendarProvider
const grace = demoIds.calendars.grace
beforeAll(async () => {
  stack = await startRunningStack('sync_worker', {
    apis: 1,
    workers: 1,
    workerFlags: ['--lock-duration', '2000', '--stalled-interval', '500'],
  })
  api = stack.processes.client(0)
  admin = new QueueAdmin({ redis: stack.redis.url })
  otherApp = new OtherCalendarApp(stack.caldavUrl)
  provider = new CalDavCalendarProvider({ url: stack.caldavUrl })
}, 120_000)
afterAll(async () => {
  await admin?.close()
  await stack?.stop()
}, 60_000)

/** The provider's webhook: what it queued (or found already pending). */
async function calendarChanged(calendarId: string): Promise<{ jobId: string; deduplicated: boolean }> {
  const answer = await api.webhook<{ jobId: string; deduplicated: boolean }>('/webhooks/calendar', {
    calendarId,
  })
  expect(answer.status).toBe(202)
  return answer.body
}

/** An appointment of Grace's (New York) on a December Monday or Tuesday, in her own zone. */
const appointment = (name: string, day: string, from: string, to: string): Appointment => ({
  name,
  start: `2026-12-${day}T${from}`,
  end: `2026-12-${day}T${to}`,
  timeZone: 'America/New_York',
})

async function busyBlocks(): Promise<string[]> {
  const { rows } = await stack.db.pool.query<{ event_id: string; starts_at: Date }>(
    'SELECT event_id, starts_at FROM external_busy_blocks WHERE calendar_id = $1 ORDER BY event_id, starts_at',
    [grace],
  )
  return rows.map((row) => `${row.event_id} ${row.starts_at.toISOString().slice(5, 16)}`)
}

async function storedToken(): Promise<string | undefined> {
  const { rows } = await stack.db.pool.query<{ sync_token: string }>(
    'SELECT sync_token FROM external_calendar_sync_state WHERE calendar_id = $1',
    [grace],
  )
  return rows[0]?.sync_token
}

const counts = async () => (await admin.stats('external-sync')).counts

describe('an external-sync worker killed in the middle of applying a sync', () => {
  it('leaves the job to another worker, whose run converges with no duplicate busy blocks', async () => {
    await otherApp.put(grace, appointment('school-run', '07', '09:00', '10:00'))
    await syncCalendar(stack.db.pool, provider, grace)
    const tokenBefore = await storedToken()
    await otherApp.put(grace, appointment('school-run', '07', '11:00', '12:00'))
    await otherApp.put(grace, appointment('dentist', '08', '11:00', '12:00'))
    // Hold the busy blocks so the worker's sync stops inside its transaction, after the token swap and
    // before the blocks are written.
    const blocker = await stack.db.pool.connect()
    await blocker.query('BEGIN')
    await blocker.query('LOCK TABLE external_busy_blocks IN ACCESS EXCLUSIVE MODE')
    try {
      await calendarChanged(grace)
      await waitFor(async () => {
        const { rows } = await stack.db.pool.query(
          `SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%external_busy_blocks%'`,
        )
        return rows.length > 0
      }, 30_000)
      const [worker] = stack.processes.workers
      worker!.child.kill('SIGKILL')
      expect(await worker!.exited).toBe('SIGKILL')
      expect((await counts()).active).toBe(1)
    } finally {
      await blocker.query('ROLLBACK')
      blocker.release()
    }
    // Nothing of the killed run stayed: its transaction died with its connection.
    expect(await busyBlocks()).toEqual(['school-run 12-07T14:00'])
    await waitFor(async () => (await storedToken()) === tokenBefore, 10_000)

    await stack.processes.startWorker()
    await waitFor(async () => (await counts()).completed === 1, 30_000)
    expect(await counts()).toMatchObject({ completed: 1, failed: 0, active: 0, waiting: 0 })
    expect(await busyBlocks()).toEqual(['dentist 12-08T16:00', 'school-run 12-07T16:00'])
    const current = await provider.listChanges(grace, null, {
      window: { from: new Date(), to: new Date(Date.now() + 86_400_000) },
      timeZone: 'America/New_York',
    })
    expect(await storedToken()).toBe(current.nextSyncToken)
  }, 90_000)
})

describe('an external-sync job while the calendar server is down', () => {
  it('is retried with backoff, then dead-lettered, having applied nothing; a later sync applies it all', async () => {
    const before = await counts()
    const blocksBefore = await busyBlocks()
    const tokenBefore = await storedToken()
    await otherApp.put(grace, appointment('yoga', '08', '07:00', '08:00'))
    await stack.radicale.kill()
    try {
      const started = Date.now()
      const receipt = await calendarChanged(grace)
      await waitFor(async () => (await counts()).failed === before.failed + 1, 40_000)
      const [dead] = (await admin.deadLetters('external-sync')).filter((job) => job.jobId === receipt.jobId)
      expect(dead).toMatchObject({ attemptsMade: 6 })
      expect(dead!.failedReason).toContain(`to ${stack.caldavUrl.replace('not-a-secret', '***')} failed`)
      // Six attempts with exponential backoff from 500 ms (jittered down to half): at least ~7.5 s.
      expect(Date.now() - started).toBeGreaterThan(7_000)
      expect(await busyBlocks()).toEqual(blocksBefore)
      expect(await storedToken()).toBe(tokenBefore)
    } finally {
      await stack.radicale.restart()
    }
    await calendarChanged(grace)
    await waitFor(async () => (await busyBlocks()).includes('yoga 12-08T12:00'), 20_000)
    expect(await busyBlocks()).toEqual([...blocksBefore, 'yoga 12-08T12:00'].sort())
  }, 90_000)
})

describe('a burst of changes to one calendar', () => {
  it('collapses 100 changes and their 100 webhooks into a few sync runs, one pending at most, that apply all of them', async () => {
    const calendar = demoIds.calendars.ada
    const names = Array.from({ length: 100 }, (_, index) => `burst-${String(index).padStart(3, '0')}`)
    for (let batch = 0; batch < names.length; batch += 10) {
      await Promise.all(
        names.slice(batch, batch + 10).map((name, index) =>
          otherApp.put(calendar, {
            name,
            start: `2027-02-${String(2 + ((batch + index) % 20)).padStart(2, '0')}T09:00`,
            end: `2027-02-${String(2 + ((batch + index) % 20)).padStart(2, '0')}T09:30`,
            timeZone: 'Europe/Berlin',
          }),
        ),
      )
    }
    // The previous test's last sync may still be finishing: count from when the queue is idle.
    const idle = async () => {
      const now = await counts()
      return now.active === 0 && now.waiting === 0
    }
    await waitFor(idle, 30_000)
    const earlier = new Set((await syncRuns()).map((run) => run.id))
    const receipts = await Promise.all(names.map(() => calendarChanged(calendar)))
    const lastAnswered = Date.now()
    expect(receipts.filter((receipt) => !receipt.deduplicated).length).toBeLessThanOrEqual(2)
    const blocks = async () =>
      Number(
        (
          await stack.db.pool.query<{ n: string }>(
            `SELECT count(*) AS n FROM external_busy_blocks WHERE calendar_id = $1 AND event_id LIKE 'burst-%'`,
            [calendar],
          )
        ).rows[0]!.n,
      )
    await waitFor(async () => (await blocks()) === 100, 30_000)
    await waitFor(idle, 30_000)
    expect(await blocks()).toBe(100)
    const runs = (await syncRuns()).filter((run) => !earlier.has(run.id))
    // A webhook that finds a sync pending joins it, so at most one is pending: once the last webhook was answered,
    // at most one more run started. While the webhooks were still arriving (over HTTP that takes a while, longer
    // on a busy machine), each run that started left room for one more pending: a few runs, never one per webhook.
    expect(runs.filter((run) => run.startedAt > lastAnswered).length).toBeLessThanOrEqual(1)
    expect(runs.length).toBeGreaterThanOrEqual(1)
    expect(runs.length).toBeLessThanOrEqual(10)
  }, 90_000)
})

/** Every completed sync run of the external-sync queue: its job id and when the worker started it. */
async function syncRuns(): Promise<{ id: string; startedAt: number }[]> {
  const queue = new Queue('external-sync', {
    connection: new Redis(stack.redis.url, { maxRetriesPerRequest: null }),
    prefix: DEFAULT_QUEUE_PREFIX,
  })
  try {
    const jobs = await queue.getJobs(['completed'], 0, -1)
    return jobs.map((job) => ({ id: job.id!, startedAt: job.processedOn! }))
  } finally {
    await queue.close()
    await queue.disconnect()
  }
}
