import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import type { Change } from '../capture/change.js'
import { defineChangeCapture } from '../capture/change-capture.js'
import { watchTable } from '../capture/watch-table.js'
import { ChangeListener } from '../listener/change-listener.js'
import { clinicCapture, createClinicTables } from '../test-support/clinic.js'
import { createTestDatabase, type TestDatabase } from '../test-support/test-database.js'
import { ReplicationListener, type ReplicationListenerOptions } from './replication-listener.js'
import { dropReplicationSlot, replicationSlotHealth } from './replication-slot.js'

const eventually = { timeout: 20_000, interval: 50 }
const capture = clinicCapture()
let db: TestDatabase
let slotCount = 0
const stops: Array<() => Promise<void>> = []

beforeAll(async () => {
  db = await createTestDatabase('replication')
  await createClinicTables(db.pool)
  await capture.install({ database: db.url, source: 'replication' })
  await capture.install({ database: db.url, source: 'triggers' })
})
afterAll(() => db?.drop())
beforeEach(async () => {
  await db.pool.query('DELETE FROM appointments')
})
afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()))
})

const nextSlot = () => `test_slot_${++slotCount}`

async function startReplication(
  slot: string,
  options: Partial<ReplicationListenerOptions> = {},
): Promise<{ listener: ReplicationListener; received: Change[]; failures: unknown[] }> {
  const received: Change[] = []
  const failures: unknown[] = []
  const listener = new ReplicationListener({
    database: db.url,
    capture,
    slot,
    statusInterval: '200ms',
    retryDelay: '100ms',
    onChange: (change) => void received.push(change),
    ...options,
  })
  listener.on('failure', (error) => failures.push(error))
  await listener.start()
  stops.push(() => listener.stop())
  return { listener, received, failures }
}

async function confirmedFlush(slot: string): Promise<string> {
  const { rows } = await db.pool.query<{ lsn: string }>(
    'SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1',
    [slot],
  )
  return rows[0]!.lsn
}

const insert = (id: number, doctor = 1, day = '2026-03-02') =>
  db.pool.query('INSERT INTO appointments VALUES ($1, $2, $3, null)', [id, doctor, day])
const newIds = (changes: Change[]) =>
  changes.map((change) => change.new?.id ?? change.old?.id ?? change.operation)

describe('every kind of change from the slot', () => {
  it('arrives exactly as the triggers record it, with the same targets', async () => {
    const slot = nextSlot()
    const replicated = await startReplication(slot)
    const triggered: Change[] = []
    const listener = new ChangeListener({
      database: db.url,
      capture,
      name: `beside-${slot}`,
      onChange: (change) => void triggered.push(change),
    })
    await listener.start()
    stops.push(() => listener.stop())
    await insert(1)
    await db.pool.query(`UPDATE appointments SET day = '2026-03-03' WHERE id = 1`)
    await db.pool.query(`UPDATE doctors SET name = 'Dr. Ada L.' WHERE id = 1`)
    await db.pool.query('DELETE FROM appointments WHERE id = 1')
    await db.pool.query('TRUNCATE appointments')
    await vi.waitFor(() => expect(replicated.received).toHaveLength(5), eventually)
    await vi.waitFor(() => expect(triggered).toHaveLength(5), eventually)
    const shape = (change: Change) => ({
      table: change.table,
      operation: change.operation,
      old: change.old,
      new: change.new,
      targets: capture.targetsOf(change),
    })
    expect(replicated.received.map(shape)).toEqual(triggered.map(shape))
    expect(replicated.received.map(shape)[1]).toEqual({
      table: 'public.appointments',
      operation: 'update',
      old: { id: '1', doctor_id: '1', day: '2026-03-02' },
      new: { id: '1', doctor_id: '1', day: '2026-03-03' },
      targets: { tags: ['doctor:1:day:2026-03-02', 'doctor:1:day:2026-03-03'] },
    })
    // The commit time, from the server, and the transaction id of each.
    expect(
      replicated.received.every((change) => Math.abs(change.changedAt.getTime() - Date.now()) < 60_000),
    ).toBe(true)
    expect(new Set(replicated.received.map((change) => change.transaction)).size).toBe(5)
  })
})

describe('commit order', () => {
  it('delivers a long transaction when it commits, after the later ones that committed first', async () => {
    const { received } = await startReplication(nextSlot())
    const slow = await db.pool.connect()
    try {
      await slow.query('BEGIN')
      await slow.query(`INSERT INTO appointments VALUES (10, 1, '2026-03-02', 'slow')`)
      await insert(11)
      await insert(12)
      await vi.waitFor(() => expect(newIds(received)).toEqual(['11', '12']), eventually)
      await slow.query('COMMIT')
    } finally {
      slow.release()
    }
    await vi.waitFor(() => expect(newIds(received)).toEqual(['11', '12', '10']), eventually)
  })
})

describe('a consumer that stops and starts again', () => {
  it('resumes after the last transaction it confirmed, missing nothing committed while it was down', async () => {
    const slot = nextSlot()
    const first = await startReplication(slot)
    await insert(20)
    await vi.waitFor(() => expect(newIds(first.received)).toEqual(['20']), eventually)
    await first.listener.stop()
    await insert(21)
    await insert(22)
    const second = await startReplication(slot)
    await vi.waitFor(() => expect(newIds(second.received)).toEqual(['21', '22']), eventually)
  })

  it('gets a transaction again when the handler threw on it, from the slot, after the ones before it', async () => {
    let fail = true
    const handled: string[] = []
    const { failures } = await startReplication(nextSlot(), {
      onChange: (change) => {
        if (change.new?.id === '31' && fail) {
          fail = false
          throw new Error('cache unreachable')
        }
        handled.push(change.new?.id ?? '')
      },
    })
    await db.pool.query(`BEGIN; INSERT INTO appointments VALUES (30, 1, '2026-03-02', null);
      INSERT INTO appointments VALUES (31, 1, '2026-03-02', null); COMMIT`)
    await insert(32)
    // The failed transaction comes again whole (30 a second time: at least once), and 32 after it.
    await vi.waitFor(() => expect(handled).toEqual(['30', '30', '31', '32']), eventually)
    expect(failures).toMatchObject([{ code: 'PG_ERR_DELIVERY_FAILED' }])
  })

  it('reconnects after its stream was killed and catches up what was committed meanwhile', async () => {
    const slot = nextSlot()
    const { received, failures } = await startReplication(slot)
    await insert(40)
    await vi.waitFor(() => expect(newIds(received)).toEqual(['40']), eventually)
    await vi.waitFor(async () => expect(await confirmedFlush(slot)).not.toBe('0/0'), eventually)
    const { rows } = await db.pool.query<{ killed: boolean }>(
      'SELECT pg_terminate_backend(active_pid) AS killed FROM pg_replication_slots WHERE slot_name = $1',
      [slot],
    )
    expect(rows[0]!.killed).toBe(true)
    await insert(41)
    await insert(42)
    await vi.waitFor(() => expect(newIds(received).slice(-2)).toEqual(['41', '42']), eventually)
    // At least once: 40 comes again only if it had not been confirmed yet; nothing is lost either way.
    expect(new Set(newIds(received))).toEqual(new Set(['40', '41', '42']))
    expect(failures.some((error) => (error as { code?: string }).code === 'PG_ERR_CONNECTION_LOST')).toBe(
      true,
    )
  })
})

describe('the slot', () => {
  it('confirms handled transactions, so the slot does not hold their WAL', async () => {
    const slot = nextSlot()
    const { received } = await startReplication(slot)
    await insert(50)
    await vi.waitFor(() => expect(received).toHaveLength(1), eventually)
    await vi.waitFor(async () => {
      const health = await replicationSlotHealth({ database: db.url, slot, maxLagBytes: 1024 * 1024 })
      expect(health).toMatchObject({ exists: true, active: true, healthy: true })
    }, eventually)
  })

  it('reports the WAL a forgotten slot holds, and drops it on request', async () => {
    const slot = nextSlot()
    const { listener } = await startReplication(slot)
    await listener.stop()
    await db.pool.query(
      `INSERT INTO appointments SELECT g, 1, '2026-03-02', repeat('x', 500) FROM generate_series(1000, 3000) g`,
    )
    const health = await replicationSlotHealth({ database: db.url, slot, maxLagBytes: 64 * 1024 })
    expect(health).toMatchObject({ exists: true, active: false, healthy: false, walStatus: 'reserved' })
    expect(health.lagBytes).toBeGreaterThan(64 * 1024)
    expect(health.safeWalBytes).toBeGreaterThan(0)
    expect(await dropReplicationSlot({ database: db.url, slot })).toBe(true)
    expect(await dropReplicationSlot({ database: db.url, slot })).toBe(false)
    expect(await replicationSlotHealth({ database: db.url, slot })).toMatchObject({
      exists: false,
      healthy: false,
    })
  })

  it('refuses to drop a slot in use', async () => {
    const slot = nextSlot()
    await startReplication(slot)
    await expect(dropReplicationSlot({ database: db.url, slot })).rejects.toMatchObject({
      code: 'PG_ERR_REPLICATION_UNAVAILABLE',
    })
  })

  it('refuses a second consumer of the same slot', async () => {
    const slot = nextSlot()
    await startReplication(slot)
    const second = new ReplicationListener({ database: db.url, capture, slot, onChange: () => {} })
    await expect(second.start()).rejects.toMatchObject({ code: 'PG_ERR_REPLICATION_UNAVAILABLE' })
    await second.stop()
  })
})

describe('setup checks', () => {
  it('refuses a table that is not published with its whole old row', async () => {
    await db.pool.query('CREATE TABLE IF NOT EXISTS rooms (id int PRIMARY KEY, name text)')
    const withRooms = defineChangeCapture({
      tables: [watchTable('rooms', { columns: ['id'], targets: (row) => ({ keys: [`room:${row.id}`] }) })],
    })
    const listener = new ReplicationListener({
      database: db.url,
      capture: withRooms,
      slot: nextSlot(),
      onChange: () => {},
    })
    await expect(listener.start()).rejects.toMatchObject({
      code: 'PG_ERR_REPLICATION_UNAVAILABLE',
      details: { tables: ['public.rooms'] },
    })
    await listener.stop()
  })
})
