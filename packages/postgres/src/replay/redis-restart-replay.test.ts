import { EventEmitter } from 'node:events'
import type { InvalidationTarget } from '@cachesaga/core'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { Change } from '../capture/change.js'
import { clinicCapture, createClinicTables } from '../test-support/clinic.js'
import { createTestDatabase, type TestDatabase } from '../test-support/test-database.js'
import { RecentChanges } from './recent-changes.js'
import type { RedisRestartEvent } from './redis-restart.js'
import {
  RedisRestartReplay,
  type RedisRestartReplayOptions,
  type ReplayReport,
} from './redis-restart-replay.js'

const capture = clinicCapture()
let db: TestDatabase
const stops: Array<() => Promise<void>> = []

beforeAll(async () => {
  db = await createTestDatabase('replay')
  await createClinicTables(db.pool)
  await capture.install({ database: db.url, source: 'triggers' })
})
afterAll(() => db?.drop())
beforeEach(async () => {
  await db.pool.query('DELETE FROM appointments')
  await db.pool.query('TRUNCATE cachesaga.changes')
})
afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()))
})

/** A cache double: records what it was asked to invalidate, and emits `redis:restart` on demand. */
class RecordingCache extends EventEmitter<{ 'redis:restart': [RedisRestartEvent] }> {
  readonly invalidated: InvalidationTarget[] = []
  refusals = 0

  async invalidate(target: InvalidationTarget): Promise<{ ok: boolean }> {
    if (this.refusals > 0) {
      this.refusals--
      return { ok: false }
    }
    this.invalidated.push(target)
    return { ok: true }
  }

  /** Every item invalidated, in order, as `kind:item`. */
  items(): string[] {
    return this.invalidated.flatMap((target) =>
      Object.entries(target).flatMap(([kind, items]) =>
        (items as unknown[]).map(
          (item) => `${kind}:${typeof item === 'string' ? item : JSON.stringify(item)}`,
        ),
      ),
    )
  }
}

function replayer(
  cache: RecordingCache,
  options: Partial<RedisRestartReplayOptions> = {},
): RedisRestartReplay {
  const replay = new RedisRestartReplay({
    cache,
    capture,
    window: '5m',
    ...(options.recent === undefined ? { database: db.url } : {}),
    ...options,
  })
  stops.push(() => replay.stop())
  return replay
}

const restart = (detectedAt = Date.now()): RedisRestartEvent => ({
  reason: 'run-id',
  detectedAt,
  previousRunId: 'before',
  runId: 'after',
})

/** Commits `sql`, then dates the changes it recorded `minutesAgo` back. */
async function changeMinutesAgo(minutesAgo: number, sql: string): Promise<void> {
  const { rows } = await db.pool.query<{ max: string | null }>(
    'SELECT max(id)::text AS max FROM cachesaga.changes',
  )
  await db.pool.query(sql)
  await db.pool.query(
    `UPDATE cachesaga.changes SET changed_at = now() - make_interval(mins => $1) WHERE id > coalesce($2::bigint, 0)`,
    [minutesAgo, rows[0]!.max],
  )
}

describe('which changes a replay re-applies', () => {
  it('those within the window before the restart, oldest first, each item once', async () => {
    await changeMinutesAgo(30, `INSERT INTO appointments VALUES (1, 1, '2026-03-01', null)`)
    await changeMinutesAgo(4, `INSERT INTO appointments VALUES (2, 1, '2026-03-02', null)`)
    await changeMinutesAgo(3, `UPDATE appointments SET day = '2026-03-03' WHERE id = 2`)
    await changeMinutesAgo(2, `INSERT INTO appointments VALUES (3, 2, '2026-03-02', null)`)
    await changeMinutesAgo(1, `UPDATE doctors SET name = 'Dr. Grace H.' WHERE id = 2`)
    const cache = new RecordingCache()
    const report = await replayer(cache, { batchSize: 2 }).replay(restart())
    expect(report).toMatchObject({ changes: 4, items: 4 })
    // The change 30 minutes ago is outside; 2026-03-02 of doctor 1 is named twice but applied once.
    expect(cache.items()).toEqual([
      'tags:doctor:1:day:2026-03-02',
      'tags:doctor:1:day:2026-03-03',
      'tags:doctor:2:day:2026-03-02',
      'keys:doctor:2',
    ])
  })

  it('measures the window back from when the restart was noticed, not from now', async () => {
    await changeMinutesAgo(9, `INSERT INTO appointments VALUES (4, 1, '2026-03-04', null)`)
    await changeMinutesAgo(7, `INSERT INTO appointments VALUES (5, 1, '2026-03-05', null)`)
    const cache = new RecordingCache()
    // Noticed 3 minutes ago: its 5-minute window reaches back 8 minutes from now.
    await replayer(cache).replay(restart(Date.now() - 3 * 60_000))
    expect(cache.items()).toEqual(['tags:doctor:1:day:2026-03-05'])
  })

  it('does nothing when nothing changed within the window', async () => {
    await changeMinutesAgo(60, `INSERT INTO appointments VALUES (6, 1, '2026-03-06', null)`)
    const cache = new RecordingCache()
    expect(await replayer(cache).replay(restart())).toMatchObject({ changes: 0, items: 0 })
    expect(cache.invalidated).toEqual([])
  })
})

describe('the restart signal', () => {
  it('replays when the cache reports a Redis restart, and reports what it did', async () => {
    await changeMinutesAgo(1, `INSERT INTO appointments VALUES (7, 2, '2026-03-07', null)`)
    const cache = new RecordingCache()
    const replay = replayer(cache)
    replay.start()
    const replayed = new Promise<ReplayReport>((resolve) => replay.once('replayed', resolve))
    const event: RedisRestartEvent = { reason: 'role', detectedAt: Date.now() }
    cache.emit('redis:restart', event)
    expect(await replayed).toEqual({ event, changes: 1, items: 1 })
    expect(cache.items()).toEqual(['tags:doctor:2:day:2026-03-07'])
    // Stopped, it no longer listens.
    await replay.stop()
    cache.emit('redis:restart', event)
    expect(cache.listenerCount('redis:restart')).toBe(0)
  })

  it('replays two restarts one after the other, each whole', async () => {
    await changeMinutesAgo(1, `INSERT INTO appointments VALUES (8, 1, '2026-03-08', null)`)
    const cache = new RecordingCache()
    const replay = replayer(cache)
    const [first, second] = await Promise.all([replay.replay(restart()), replay.replay(restart())])
    expect([first.items, second.items]).toEqual([1, 1])
    expect(cache.items()).toEqual(['tags:doctor:1:day:2026-03-08', 'tags:doctor:1:day:2026-03-08'])
  })
})

describe('a cache that refuses', () => {
  it('is tried again while Redis comes back', async () => {
    await changeMinutesAgo(1, `INSERT INTO appointments VALUES (9, 1, '2026-03-09', null)`)
    const cache = new RecordingCache()
    cache.refusals = 2
    expect(await replayer(cache).replay(restart())).toMatchObject({ items: 1 })
    expect(cache.items()).toEqual(['tags:doctor:1:day:2026-03-09'])
  })

  it('makes the replay fail with a coded error after its tries', async () => {
    await changeMinutesAgo(1, `INSERT INTO appointments VALUES (10, 1, '2026-03-10', null)`)
    const cache = new RecordingCache()
    cache.refusals = 10
    await expect(replayer(cache, { attempts: 2 }).replay(restart())).rejects.toMatchObject({
      code: 'PG_ERR_REPLAY_FAILED',
      details: { attempts: 2 },
    })
  })
})

describe('replaying from the changes this process handled (the replication source)', () => {
  it('re-applies the remembered changes within the window', async () => {
    const recent = new RecentChanges({ window: '10m' })
    const handled: Change[] = []
    const track = recent.track((change) => void handled.push(change))
    const change = (id: string, day: string, minutesAgo: number): Change => ({
      id,
      table: 'public.appointments',
      operation: 'insert',
      old: undefined,
      new: { id, doctor_id: '1', day },
      transaction: id,
      changedAt: new Date(Date.now() - minutesAgo * 60_000),
    })
    await track(change('1', '2026-04-01', 8))
    await track(change('2', '2026-04-02', 2))
    const cache = new RecordingCache()
    await replayer(cache, { recent, window: '5m' }).replay(restart())
    expect(handled).toHaveLength(2)
    expect(cache.items()).toEqual(['tags:doctor:1:day:2026-04-02'])
  })

  it('refuses both sources at once, or none', () => {
    const cache = new RecordingCache()
    expect(() => new RedisRestartReplay({ cache, capture })).toThrow(/RedisRestartReplayOptions\.database/)
    expect(
      () => new RedisRestartReplay({ cache, capture, database: db.url, recent: new RecentChanges() }),
    ).toThrow(expect.objectContaining({ code: 'PG_ERR_INVALID_OPTIONS' }))
  })
})
