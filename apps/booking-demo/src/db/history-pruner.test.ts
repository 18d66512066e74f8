import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createTestDatabase, type TestDatabase } from '../test-support/test-database.js'
import { HistoryPruner, type PruneResult } from './history-pruner.js'

let db: TestDatabase
beforeAll(async () => {
  db = await createTestDatabase('prune')
})
afterAll(() => db?.drop())
beforeEach(async () => {
  await db.pool.query('TRUNCATE outbox, changes, change_listener_checkpoints')
})

const DAY_MS = 24 * 60 * 60 * 1000

/** An outbox row that occurred `ageDays` ago and was published then (or never, with `published: false`). */
async function outboxRow(label: string, ageDays: number, published = true): Promise<void> {
  await db.pool.query(
    `INSERT INTO outbox (event_type, payload, occurred_at, published_at)
     VALUES ('booking.confirmed', $1, now() - make_interval(days => $2), CASE WHEN $3 THEN now() - make_interval(days => $2) END)`,
    [JSON.stringify({ label }), ageDays, published],
  )
}

/** A change made `ageDays` ago, in a transaction of its own; returns that transaction's id. */
async function change(ageDays: number): Promise<string> {
  const { rows } = await db.pool.query<{ xid: string }>(
    `INSERT INTO changes (tenant_id, entity, entity_id, staff_id, operation, changed_at)
     VALUES ($1, 'staff', $2, $2, 'update', now() - make_interval(days => $3)) RETURNING xid::text`,
    [randomUUID(), randomUUID(), ageDays],
  )
  return rows[0]!.xid
}

async function remaining(table: 'outbox' | 'changes'): Promise<number> {
  const { rows } = await db.pool.query<{ count: string }>(`SELECT count(*) FROM ${table}`)
  return Number(rows[0]!.count)
}

describe('pruning the outbox and the changes table', () => {
  it('deletes published outbox rows past the retention, and keeps recent ones and unpublished ones', async () => {
    await outboxRow('old, published', 10)
    await outboxRow('old, published too', 8)
    await outboxRow('old, never published', 10, false)
    await outboxRow('recent, published', 1)
    const pruner = new HistoryPruner({ pool: db.pool, retentionMs: 7 * DAY_MS })
    expect(await pruner.prune()).toEqual({ outbox: 2, changes: 0 })
    const { rows } = await db.pool.query<{ label: string }>(
      "SELECT payload ->> 'label' AS label FROM outbox ORDER BY id",
    )
    expect(rows.map((row) => row.label)).toEqual(['old, never published', 'recent, published'])
  })

  it('deletes old changes only below the checkpoint of the slowest listener', async () => {
    await change(10)
    const unread = await change(10)
    await change(1)
    // A listener that has read everything before `unread`'s transaction, but not `unread` itself.
    await db.pool.query(
      "INSERT INTO change_listener_checkpoints (listener, horizon) VALUES ('fast', pg_snapshot_xmin(pg_current_snapshot())), ('slow', $1::xid8)",
      [unread],
    )
    const pruner = new HistoryPruner({ pool: db.pool, retentionMs: 7 * DAY_MS })
    expect(await pruner.prune()).toEqual({ outbox: 0, changes: 1 })
    const { rows } = await db.pool.query<{ xid: string }>('SELECT xid::text FROM changes ORDER BY id')
    expect(rows.map((row) => row.xid)).toEqual([unread, expect.any(String)])
    // Once the slow listener moves on, its old change goes too; the recent one stays.
    await db.pool.query(
      "UPDATE change_listener_checkpoints SET horizon = pg_snapshot_xmin(pg_current_snapshot()) WHERE listener = 'slow'",
    )
    expect(await pruner.prune()).toEqual({ outbox: 0, changes: 1 })
    expect(await remaining('changes')).toBe(1)
  })

  it('with no listener registered, prunes old changes by age alone', async () => {
    await change(10)
    await change(0)
    expect(await new HistoryPruner({ pool: db.pool, retentionMs: DAY_MS }).prune()).toEqual({
      outbox: 0,
      changes: 1,
    })
  })

  it('deletes in batches until nothing old is left', async () => {
    for (let i = 0; i < 7; i++) await outboxRow(`old ${i}`, 30)
    const pruner = new HistoryPruner({ pool: db.pool, retentionMs: DAY_MS, batchSize: 2 })
    expect(await pruner.prune()).toEqual({ outbox: 7, changes: 0 })
    expect(await remaining('outbox')).toBe(0)
  })

  it('start() prunes at once and reports it; stop() ends the schedule', async () => {
    await outboxRow('old', 30)
    const pruner = new HistoryPruner({ pool: db.pool, retentionMs: DAY_MS, everyMs: 60_000 })
    const pruned = new Promise<PruneResult>((resolve) => pruner.once('pruned', resolve))
    pruner.start()
    expect(await pruned).toEqual({ outbox: 1, changes: 0 })
    await pruner.stop()
  })

  it('rejects a bad option with an error that names it', () => {
    expect(() => new HistoryPruner({ pool: db.pool, retentionMs: -1 })).toThrow(/retentionMs/)
  })
})
