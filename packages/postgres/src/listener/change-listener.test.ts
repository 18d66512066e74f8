import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import type { Change } from '../capture/change.js'
import { clinicCapture, createClinicTables } from '../test-support/clinic.js'
import { createTestDatabase, type TestDatabase } from '../test-support/test-database.js'
import { ChangeListener, type ChangeListenerOptions } from './change-listener.js'

// Deadlines, not expectations of speed: the machine is shared and slow at times.
const eventually = { timeout: 15_000, interval: 50 }
const capture = clinicCapture()
let db: TestDatabase
const running: ChangeListener[] = []

beforeAll(async () => {
  db = await createTestDatabase('listener')
  await createClinicTables(db.pool)
  await capture.install({ database: db.url, source: 'triggers' })
})
afterAll(() => db?.drop())
beforeEach(async () => {
  await db.pool.query('DELETE FROM appointments')
})
afterEach(async () => {
  await Promise.all(running.splice(0).map((listener) => listener.stop()))
})

async function startListener(
  name: string,
  options: Partial<ChangeListenerOptions> = {},
): Promise<{ listener: ChangeListener; received: Change[]; failures: unknown[] }> {
  const received: Change[] = []
  const failures: unknown[] = []
  const listener = new ChangeListener({
    database: db.urlNamed(`listener-${name}`),
    capture,
    name,
    onChange: (change) => void received.push(change),
    ...options,
  })
  listener.on('failure', (error) => failures.push(error))
  running.push(listener)
  await listener.start()
  return { listener, received, failures }
}

const summary = (change: Change) => ({
  table: change.table,
  operation: change.operation,
  old: change.old,
  new: change.new,
})

describe('every kind of change, made by hand in SQL', () => {
  it('delivers inserts, updates, deletes and truncates with the declared columns as text', async () => {
    const { received } = await startListener('kinds')
    await db.pool.query(`INSERT INTO appointments VALUES (1, 1, '2026-03-02', 'checkup')`)
    await db.pool.query(`UPDATE appointments SET day = '2026-03-03', note = 'moved' WHERE id = 1`)
    await db.pool.query('DELETE FROM appointments WHERE id = 1')
    await db.pool.query('TRUNCATE appointments')
    await vi.waitFor(() => expect(received).toHaveLength(4), eventually)
    const before = { id: '1', doctor_id: '1', day: '2026-03-02' }
    const after = { id: '1', doctor_id: '1', day: '2026-03-03' }
    expect(received.map(summary)).toEqual([
      { table: 'public.appointments', operation: 'insert', old: undefined, new: before },
      { table: 'public.appointments', operation: 'update', old: before, new: after },
      { table: 'public.appointments', operation: 'delete', old: after, new: undefined },
      { table: 'public.appointments', operation: 'truncate', old: undefined, new: undefined },
    ])
    // One id per change, stable, and each from its own transaction here.
    expect(new Set(received.map((change) => change.id)).size).toBe(4)
    expect(new Set(received.map((change) => change.transaction)).size).toBe(4)
  })

  it('maps a moved appointment to both days, and a truncate to the declared target', async () => {
    const { received } = await startListener('targets')
    await db.pool.query(`INSERT INTO appointments VALUES (2, 2, '2026-03-02', null)`)
    await db.pool.query(`UPDATE appointments SET day = '2026-03-05' WHERE id = 2`)
    await db.pool.query('TRUNCATE appointments')
    await vi.waitFor(() => expect(received).toHaveLength(3), eventually)
    expect(received.map((change) => capture.targetsOf(change))).toEqual([
      { tags: ['doctor:2:day:2026-03-02'] },
      { tags: ['doctor:2:day:2026-03-02', 'doctor:2:day:2026-03-05'] },
      { scopes: ['appointments'] },
    ])
  })

  it('delivers the changes of one transaction together, in the order they were made', async () => {
    const { received } = await startListener('one-transaction')
    await db.pool.query(`
      BEGIN;
      INSERT INTO appointments VALUES (3, 1, '2026-03-02', null);
      UPDATE doctors SET name = 'Dr. Ada L.' WHERE id = 1;
      UPDATE appointments SET doctor_id = 2 WHERE id = 3;
      COMMIT;`)
    await vi.waitFor(() => expect(received).toHaveLength(3), eventually)
    expect(received.map((change) => `${change.table} ${change.operation}`)).toEqual([
      'public.appointments insert',
      'public.doctors update',
      'public.appointments update',
    ])
    expect(new Set(received.map((change) => change.transaction)).size).toBe(1)
  })

  it('records nothing for a transaction that rolled back', async () => {
    const { listener, received } = await startListener('rollback')
    await db.pool.query(`BEGIN; INSERT INTO appointments VALUES (4, 1, '2026-03-02', null); ROLLBACK;`)
    await db.pool.query(`INSERT INTO appointments VALUES (5, 1, '2026-03-02', null)`)
    await vi.waitFor(() => expect(received).toHaveLength(1), eventually)
    await listener.catchUp()
    expect(received.map((change) => change.new?.id)).toEqual(['5'])
  })
})

describe('two listeners', () => {
  it('each get every change, with checkpoints of their own', async () => {
    const first = await startListener('first')
    const second = await startListener('second')
    await second.listener.stop()
    for (let id = 10; id < 15; id++) {
      await db.pool.query(`INSERT INTO appointments VALUES ($1, 1, '2026-03-02', null)`, [id])
    }
    await vi.waitFor(() => expect(first.received).toHaveLength(5), eventually)
    expect(second.received).toHaveLength(0)
    const resumed = await startListener('second')
    await vi.waitFor(() => expect(resumed.received).toHaveLength(5), eventually)
    expect(resumed.received.map((change) => change.id)).toEqual(first.received.map((change) => change.id))
    const { rows } = await db.pool.query<{ listener: string }>(
      `SELECT listener FROM cachesaga.listener_checkpoints WHERE listener IN ('first', 'second') ORDER BY listener`,
    )
    expect(rows.map((row) => row.listener)).toEqual(['first', 'second'])
  })
})

describe('a listener whose connections were killed', () => {
  it('catches up the edits committed while it was cut off, without losing or repeating one', async () => {
    // The listener logs in as a role of its own, so the test can keep it out while the edits commit.
    const role = `listener_${Math.random().toString(36).slice(2, 8)}`
    await db.pool.query(`CREATE ROLE ${role} LOGIN PASSWORD '${role}'`)
    await db.pool.query(`GRANT USAGE ON SCHEMA cachesaga TO ${role}`)
    await db.pool.query(`GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA cachesaga TO ${role}`)
    const url = new URL(db.urlNamed('listener-killed'))
    url.username = role
    url.password = role
    try {
      const { received, failures } = await startListener('killed', {
        database: url.toString(),
        pollInterval: 200,
      })
      await db.pool.query(`INSERT INTO appointments VALUES (20, 1, '2026-03-02', null)`)
      await vi.waitFor(() => expect(received).toHaveLength(1), eventually)
      await db.pool.query(`ALTER ROLE ${role} NOLOGIN`)
      expect(await db.terminate('listener-killed')).toBeGreaterThan(0)
      // Its connection is gone and a reconnect was refused: it is down now, while the edits commit.
      await vi.waitFor(() => expect(failures.length).toBeGreaterThanOrEqual(2), eventually)
      for (let id = 21; id < 26; id++) {
        await db.pool.query(`INSERT INTO appointments VALUES ($1, 2, '2026-03-04', null)`, [id])
      }
      expect(received).toHaveLength(1)
      await db.pool.query(`ALTER ROLE ${role} LOGIN`)
      await vi.waitFor(() => expect(received).toHaveLength(6), eventually)
      expect(received.map((change) => change.new?.id)).toEqual(['20', '21', '22', '23', '24', '25'])
      expect(failures.some((error) => (error as { code?: string }).code === 'PG_ERR_CONNECTION_LOST')).toBe(
        true,
      )
    } finally {
      await Promise.all(running.splice(0).map((listener) => listener.stop()))
      await db.pool.query(`DROP OWNED BY ${role}`)
      await db.pool.query(`DROP ROLE ${role}`)
    }
  })

  it('resumes from its stored checkpoint after a restart under the same name', async () => {
    const first = await startListener('restarts')
    await first.listener.stop()
    await db.pool.query(`INSERT INTO appointments VALUES (30, 1, '2026-03-02', null)`)
    const second = await startListener('restarts')
    await vi.waitFor(
      () => expect(second.received.map((change) => change.new?.id)).toEqual(['30']),
      eventually,
    )
  })
})

describe('a long transaction that commits after later ones', () => {
  it('is delivered when it commits, although changes recorded after it were delivered first', async () => {
    const { received } = await startListener('long-transaction')
    const slow = await db.pool.connect()
    try {
      await slow.query('BEGIN')
      await slow.query(`INSERT INTO appointments VALUES (40, 1, '2026-03-02', 'slow')`)
      for (let id = 41; id < 44; id++) {
        await db.pool.query(`INSERT INTO appointments VALUES ($1, 2, '2026-03-02', null)`, [id])
      }
      await vi.waitFor(
        () => expect(received.map((change) => change.new?.id)).toEqual(['41', '42', '43']),
        eventually,
      )
      await slow.query('COMMIT')
    } finally {
      slow.release()
    }
    await vi.waitFor(
      () => expect(received.map((change) => change.new?.id)).toEqual(['41', '42', '43', '40']),
      eventually,
    )
    // The slow change's id is the smallest: an id checkpoint would have skipped it.
    expect(Number(received[3]!.id)).toBeLessThan(Number(received[0]!.id))
  })
})

describe('a handler that throws', () => {
  it('gets the same change again on the next read, nothing after it is passed, and nothing twice', async () => {
    let attempts = 0
    const handled: string[] = []
    const { listener, failures } = await startListener('flaky', {
      pollInterval: 60_000,
      onChange: (change) => {
        attempts++
        if (attempts === 2) throw new Error('cache unreachable')
        handled.push(change.new?.id ?? '')
      },
    })
    await db.pool.query(`INSERT INTO appointments VALUES (50, 1, '2026-03-02', null)`)
    await db.pool.query(`INSERT INTO appointments VALUES (51, 1, '2026-03-02', null)`)
    await db.pool.query(`INSERT INTO appointments VALUES (52, 1, '2026-03-02', null)`)
    await vi.waitFor(() => expect(failures).toHaveLength(1), eventually)
    expect(failures[0]).toMatchObject({ code: 'PG_ERR_DELIVERY_FAILED', details: { listener: 'flaky' } })
    await listener.catchUp()
    expect(handled).toEqual(['50', '51', '52'])
    await listener.catchUp()
    expect(handled).toHaveLength(3)
  })
})

describe('reading a large backlog', () => {
  it('pages through it in order', async () => {
    const first = await startListener('backlog', { pageSize: 7 })
    await first.listener.stop()
    await db.pool.query(
      `INSERT INTO appointments SELECT g, 1 + g % 2, '2026-03-02', null FROM generate_series(100, 149) g`,
    )
    const { listener, received } = await startListener('backlog', { pageSize: 7, pollInterval: 60_000 })
    await vi.waitFor(() => expect(received).toHaveLength(50), eventually)
    expect(await listener.catchUp()).toBe(0)
    expect(received.map((change) => Number(change.new?.id))).toEqual(
      Array.from({ length: 50 }, (_, i) => 100 + i),
    )
  })
})

describe('options and setup', () => {
  it('rejects a bad option naming the field', () => {
    expect(() => new ChangeListener({ database: db.url, capture, name: '', onChange: () => {} })).toThrow(
      expect.objectContaining({
        code: 'PG_ERR_INVALID_OPTIONS',
        message: expect.stringContaining('ChangeListenerOptions.name'),
      }),
    )
  })

  it('says the migration is missing when the changes table is', async () => {
    const listener = new ChangeListener({
      database: db.url,
      capture: clinicCapture('not_installed'),
      name: 'missing',
      onChange: () => {},
    })
    await expect(listener.start()).rejects.toMatchObject({ code: 'PG_ERR_NOT_INSTALLED' })
    await listener.stop()
  })

  it('gives up on an unreachable database within the connect timeout, naming it without the password', async () => {
    const listener = new ChangeListener({
      database: 'postgres://app:secret@127.0.0.1:1/nowhere',
      connectTimeout: '2s',
      capture,
      name: 'unreachable',
      onChange: () => {},
    })
    const started = Date.now()
    const failure = await listener.start().catch((error: unknown) => error)
    expect(Date.now() - started).toBeLessThan(5_000)
    expect(failure).toMatchObject({
      code: 'PG_ERR_UNREACHABLE',
      details: { database: 'postgres://app:***@127.0.0.1:1/nowhere' },
    })
    expect(String((failure as Error).message)).not.toContain('secret')
    await listener.stop()
  })
})
