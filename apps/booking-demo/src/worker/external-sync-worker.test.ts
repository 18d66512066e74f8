import { randomUUID } from 'node:crypto'
import { bookingCatalog, Dispatcher, QueueAdmin } from '@cachesaga/queue'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SimulatedCalendarProvider } from '../calendar/simulated-calendar-provider.js'
import { waitFor } from '../demo/api-client.js'
import { demoIds } from '../seed/seed-demo-data.js'
import { type RunningStack, startRunningStack } from '../test-support/running-stack.js'

/** No API: the test plays the webhook. Workers notice a dead worker's job after 2 s instead of ~15 s. */
let stack: RunningStack
let dispatcher: Dispatcher<typeof bookingCatalog>
let admin: QueueAdmin
beforeAll(async () => {
  stack = await startRunningStack('sync_worker', {
    apis: 0,
    workers: 1,
    workerFlags: ['--lock-duration', '2000', '--stalled-interval', '500'],
  })
  dispatcher = new Dispatcher({ redis: stack.redis.url, catalog: bookingCatalog })
  admin = new QueueAdmin({ redis: stack.redis.url })
}, 120_000)
afterAll(async () => {
  await Promise.all([dispatcher?.close(), admin?.close()])
  await stack?.stop()
}, 60_000)

describe('an external-sync worker killed in the middle of a sync', () => {
  it('leaves the sync to another worker, which completes it once', async () => {
    const calendar = demoIds.calendars.grace
    const provider = new SimulatedCalendarProvider(stack.db.pool)
    await provider.putEvent(calendar, {
      id: 'school-run',
      startsAt: new Date('2026-12-07T14:00:00Z'),
      endsAt: new Date('2026-12-07T15:00:00Z'),
    })
    await provider.putEvent(calendar, {
      id: 'dentist',
      startsAt: new Date('2026-12-08T16:00:00Z'),
      endsAt: new Date('2026-12-08T17:00:00Z'),
    })
    // Hold the provider's table so the worker's sync stops inside `listChanges`, mid-job.
    const blocker = await stack.db.pool.connect()
    await blocker.query('BEGIN')
    await blocker.query('LOCK TABLE simulated_calendar.events IN ACCESS EXCLUSIVE MODE')
    try {
      await dispatcher.dispatch({
        type: 'calendar.changed',
        version: 1,
        eventId: randomUUID(),
        occurredAt: new Date().toISOString(),
        tenantId: demoIds.tenant,
        payload: { calendarId: calendar, provider: 'simulated' },
      })
      await waitFor(async () => {
        const { rows } = await stack.db.pool.query(
          `SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%simulated_calendar.events%'`,
        )
        return rows.length > 0
      }, 30_000)
      const [worker] = stack.processes.workers
      worker!.child.kill('SIGKILL')
      expect(await worker!.exited).toBe('SIGKILL')
      expect((await admin.stats('external-sync')).counts.active).toBe(1)
    } finally {
      await blocker.query('ROLLBACK')
      blocker.release()
    }

    await stack.processes.startWorker()
    await waitFor(async () => (await admin.stats('external-sync')).counts.completed === 1, 30_000)
    const stats = await admin.stats('external-sync')
    expect(stats.counts).toMatchObject({ completed: 1, failed: 0, active: 0, waiting: 0 })
    const { rows: blocks } = await stack.db.pool.query<{ event_id: string }>(
      'SELECT event_id FROM external_busy_blocks WHERE calendar_id = $1 ORDER BY event_id',
      [calendar],
    )
    expect(blocks.map((block) => block.event_id)).toEqual(['dentist', 'school-run'])
    const { rows: state } = await stack.db.pool.query<{ sync_token: string }>(
      'SELECT sync_token FROM external_calendar_sync_state WHERE calendar_id = $1',
      [calendar],
    )
    expect(state[0]?.sync_token).toBe((await provider.listChanges(calendar, null)).nextSyncToken)
  }, 90_000)
})
