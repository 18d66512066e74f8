import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import type { Change } from '../capture/change.js'
import { ChangeListener } from '../listener/change-listener.js'
import { installOutbox } from '../outbox/outbox.js'
import { clinicCapture, createClinicTables } from '../test-support/clinic.js'
import { createTestDatabase, type TestDatabase } from '../test-support/test-database.js'
import { HistoryPruner, type PruneResult } from './history-pruner.js'

const eventually = { timeout: 15_000, interval: 50 }
const DAY_MS = 24 * 60 * 60 * 1000
const capture = clinicCapture()
let db: TestDatabase
const stops: Array<() => Promise<void>> = []

beforeAll(async () => {
  db = await createTestDatabase('prune')
  await createClinicTables(db.pool)
  await capture.install({ database: db.url, source: 'triggers' })
  await installOutbox({ database: db.url })
})
afterAll(() => db?.drop())
beforeEach(async () => {
  await db.pool.query('TRUNCATE cachesaga.changes, cachesaga.listener_checkpoints, cachesaga.outbox')
})
afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()))
})

function pruner(retention: number | string = '1d', batchSize?: number): HistoryPruner {
  const created = new HistoryPruner({ database: db.url, retention, ...(batchSize ? { batchSize } : {}) })
  stops.push(() => created.stop())
  return created
}

/** Changes (real ones, through the triggers), then dated `ageDays` back as if made then. */
async function changesAged(ageDays: number, ids: number[]): Promise<void> {
  for (const id of ids)
    await db.pool.query(`INSERT INTO appointments VALUES ($1, 1, '2026-03-02', null)`, [id])
  await db.pool.query(
    `UPDATE cachesaga.changes SET changed_at = now() - make_interval(days => $1)
     WHERE new_row ->> 'id' = ANY($2::text[])`,
    [ageDays, ids.map(String)],
  )
}

async function remainingChangeIds(): Promise<string[]> {
  const { rows } = await db.pool.query<{ id: string }>(
    "SELECT new_row ->> 'id' AS id FROM cachesaga.changes ORDER BY id",
  )
  return rows.map((row) => row.id)
}

async function startListener(name: string, received: Change[]): Promise<ChangeListener> {
  const listener = new ChangeListener({
    database: db.url,
    capture,
    name,
    pollInterval: '1h',
    onChange: (change) => void received.push(change),
  })
  await listener.start()
  stops.push(() => listener.stop())
  return listener
}

describe('pruning the changes table', () => {
  it('with a slow listener, keeps every old change it has not passed, and prunes them once it has', async () => {
    const fastReceived: Change[] = []
    const slowReceived: Change[] = []
    const fast = await startListener('fast', fastReceived)
    const slow = await startListener('slow', slowReceived)
    await slow.stop()
    await db.pool.query('DELETE FROM appointments')
    await changesAged(10, [1, 2, 3])
    await vi.waitFor(async () => {
      await fast.catchUp()
      expect(fastReceived.filter((change) => change.operation === 'insert')).toHaveLength(3)
    }, eventually)
    await changesAged(0, [4])
    // The fast listener has passed the old changes; the slow one (stopped) has not: nothing old goes.
    expect((await pruner().prune()).changes).toBe(0)
    expect(await remainingChangeIds()).toEqual(['1', '2', '3', '4'])

    // The slow listener comes back and catches up: only then are the old changes pruned, the recent one stays.
    const resumed: Change[] = []
    const back = await startListener('slow', resumed)
    await back.catchUp()
    expect(resumed.map((change) => change.new?.id)).toEqual(['1', '2', '3', '4'])
    await fast.catchUp()
    expect((await pruner().prune()).changes).toBe(3)
    expect(await remainingChangeIds()).toEqual(['4'])
  })

  it('stops holding changes for a listener it was told to forget', async () => {
    const received: Change[] = []
    const gone = await startListener('gone', received)
    await gone.stop()
    await changesAged(10, [10])
    const once = pruner()
    expect((await once.prune()).changes).toBe(0)
    expect(await once.forgetListener('gone')).toBe(true)
    expect((await once.prune()).changes).toBe(1)
  })

  it('with no listener registered, prunes old changes by age alone, in batches', async () => {
    await changesAged(10, [20, 21, 22, 23, 24])
    await changesAged(0, [25])
    expect((await pruner('1d', 2).prune()).changes).toBe(5)
    expect(await remainingChangeIds()).toEqual(['25'])
  })
})

describe('pruning the outbox', () => {
  it('deletes published rows past the retention, and keeps recent and unpublished ones', async () => {
    await db.pool.query(`
      INSERT INTO cachesaga.outbox (event, occurred_at, published_at) VALUES
        ('{"n": 1}', now() - interval '10 days', now() - interval '10 days'),
        ('{"n": 2}', now() - interval '10 days', NULL),
        ('{"n": 3}', now() - interval '1 hour', now() - interval '1 hour')`)
    expect(await pruner('1d').prune()).toEqual<PruneResult>({ changes: 0, outbox: 1 })
    const { rows } = await db.pool.query<{ n: number }>(
      "SELECT (event ->> 'n')::int AS n FROM cachesaga.outbox ORDER BY id",
    )
    expect(rows.map((row) => row.n)).toEqual([2, 3])
  })
})

describe('the schedule', () => {
  it('start() prunes at once and reports it', async () => {
    await changesAged(3, [30])
    const scheduled = pruner(DAY_MS)
    const pruned = new Promise<PruneResult>((resolve) => scheduled.once('pruned', resolve))
    scheduled.start()
    expect(await pruned).toEqual({ changes: 1, outbox: 0 })
  })

  it('rejects a bad retention, naming the field', () => {
    expect(() => new HistoryPruner({ database: db.url, retention: 'soon' })).toThrow(
      /HistoryPrunerOptions\.retention/,
    )
  })
})
