import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { demoIds, seedDemoData } from '../seed/seed-demo-data.js'
import { createTestDatabase, type TestDatabase } from '../test-support/test-database.js'
import { type Change, ChangeListener } from './change-listener.js'

// Deadlines, not expectations of speed: the machine is shared and slow at times.
const eventually = { timeout: 10_000 }
let db: TestDatabase
const listeners: ChangeListener[] = []
beforeAll(async () => {
  db = await createTestDatabase('changes')
  await seedDemoData(db.pool)
})
afterAll(() => db?.drop())
afterEach(async () => {
  await Promise.all(listeners.splice(0).map((listener) => listener.stop()))
})

async function startListener(name: string, pool: pg.Pool = db.pool) {
  const received: Change[] = []
  const failures: Error[] = []
  const listener = new ChangeListener({ pool, name, onChange: (change) => void received.push(change) })
  listener.on('failure', (error) => failures.push(error))
  listeners.push(listener)
  await listener.start()
  return { listener, received, failures }
}

async function editScheduleOfAda(): Promise<string> {
  const { rows } = await db.pool.query<{ id: string }>(
    `UPDATE weekly_schedules SET ends_at = ends_at - interval '30 minutes'
     WHERE id = (SELECT id FROM weekly_schedules WHERE staff_id = $1 ORDER BY weekday, starts_at LIMIT 1)
     RETURNING id`,
    [demoIds.staff.ada],
  )
  return rows[0]!.id
}

describe('changes made by hand in SQL', () => {
  it('reach the listener with the staff member they affect', async () => {
    const { received } = await startListener('by-hand')
    const scheduleId = await editScheduleOfAda()
    await db.pool.query(`UPDATE staff SET name = 'Ada L.' WHERE id = $1`, [demoIds.staff.ada])
    await vi.waitFor(() => expect(received).toHaveLength(2), eventually)
    expect(received).toMatchObject([
      { entity: 'schedule', entityId: scheduleId, staffId: demoIds.staff.ada, operation: 'update' },
      { entity: 'staff', entityId: demoIds.staff.ada, staffId: demoIds.staff.ada, operation: 'update' },
    ])
    expect(received.every((change) => change.tenantId === demoIds.tenant)).toBe(true)
  })

  it('report a service edit without a staff member, since it affects the whole tenant', async () => {
    const { received } = await startListener('services')
    await db.pool.query('UPDATE services SET duration_minutes = 45 WHERE id = $1', [
      demoIds.services.treatment,
    ])
    await vi.waitFor(
      () =>
        expect(received).toMatchObject([
          { entity: 'service', entityId: demoIds.services.treatment, staffId: null },
        ]),
      eventually,
    )
  })

  it('include deletions', async () => {
    const { received } = await startListener('deletions')
    const { rows } = await db.pool.query<{ id: string }>(
      `DELETE FROM weekly_schedules WHERE id = (SELECT id FROM weekly_schedules WHERE staff_id = $1 LIMIT 1)
       RETURNING id`,
      [demoIds.staff.grace],
    )
    await vi.waitFor(
      () =>
        expect(received).toMatchObject([{ entity: 'schedule', entityId: rows[0]!.id, operation: 'delete' }]),
      eventually,
    )
  })
})

describe('a listener that was not listening', () => {
  it('catches up an edit made while its connection was down, once it reconnects', async () => {
    // The listener logs in as its own role, so the test can refuse it new connections while it edits.
    const role = `listener_${randomBytes(4).toString('hex')}`
    await db.pool.query(`CREATE ROLE ${role} LOGIN PASSWORD '${role}'`)
    await db.pool.query(`GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA public TO ${role}`)
    const url = new URL(db.url)
    url.username = role
    url.password = role
    const pool = new pg.Pool({ connectionString: url.toString() })
    pool.on('error', () => {})
    try {
      const { received, failures } = await startListener('reconnects', pool)
      await db.pool.query(`ALTER ROLE ${role} NOLOGIN`)
      await db.pool.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1`, [role])
      // A lost connection and at least one refused reconnect: the listener is down now.
      await vi.waitFor(() => expect(failures.length).toBeGreaterThanOrEqual(2), eventually)
      const scheduleId = await editScheduleOfAda()
      expect(received).toEqual([])
      await db.pool.query(`ALTER ROLE ${role} LOGIN`)
      await vi.waitFor(
        () => expect(received).toMatchObject([{ entity: 'schedule', entityId: scheduleId }]),
        eventually,
      )
    } finally {
      await Promise.all(listeners.splice(0).map((listener) => listener.stop()))
      await pool.end()
      await db.pool.query(`DROP OWNED BY ${role}`)
      await db.pool.query(`DROP ROLE ${role}`)
    }
  })

  it('resumes from its stored checkpoint after a restart under the same name', async () => {
    const first = await startListener('restarts')
    await first.listener.stop()
    const scheduleId = await editScheduleOfAda()
    const second = await startListener('restarts')
    await vi.waitFor(
      () => expect(second.received).toMatchObject([{ entity: 'schedule', entityId: scheduleId }]),
      eventually,
    )
  })
})

describe('changes that commit out of id order', () => {
  it('delivers a change whose transaction committed after a later-numbered one was delivered', async () => {
    const { received } = await startListener('out-of-order')
    const slow = await db.pool.connect()
    try {
      await slow.query('BEGIN')
      await slow.query(`UPDATE staff SET name = 'Grace H.' WHERE id = $1`, [demoIds.staff.grace])
      await db.pool.query(`UPDATE staff SET name = 'Ada' WHERE id = $1`, [demoIds.staff.ada])
      await vi.waitFor(
        () => expect(received.map((change) => change.entityId)).toEqual([demoIds.staff.ada]),
        eventually,
      )
      await slow.query('COMMIT')
    } finally {
      slow.release()
    }
    await vi.waitFor(
      () =>
        expect(received.map((change) => change.entityId)).toEqual([demoIds.staff.ada, demoIds.staff.grace]),
      eventually,
    )
    expect(Number(received[1]!.id)).toBeLessThan(Number(received[0]!.id))
  })
})

describe('a handler that throws', () => {
  it('gets the same change again on the next read, and nothing twice', async () => {
    let attempts = 0
    const received: Change[] = []
    const listener = new ChangeListener({
      pool: db.pool,
      name: 'flaky-handler',
      onChange: (change) => {
        attempts++
        if (attempts === 1) throw new Error('cache unreachable')
        received.push(change)
      },
    })
    const failures: Error[] = []
    listener.on('failure', (error) => failures.push(error))
    listeners.push(listener)
    await listener.start()
    await db.pool.query(`UPDATE staff SET name = 'Grace' WHERE id = $1`, [demoIds.staff.grace])
    await vi.waitFor(
      () => expect(failures.map((error) => error.message)).toEqual(['cache unreachable']),
      eventually,
    )
    await listener.catchUp()
    expect(received.map((change) => change.entityId)).toEqual([demoIds.staff.grace])
    await listener.catchUp()
    expect(received).toHaveLength(1)
  })
})
