import { type ChildProcess, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { bookingCatalog, Dispatcher } from '@cachesaga/queue'
import { type RedisServer, startRedis } from '@cachesaga/testkit'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { bookingCreated, jobsPerEventId } from '../test-support/queued-events.js'
import { createTestDatabase, type TestDatabase } from '../test-support/test-database.js'
import { appendToOutbox, installOutbox } from './outbox.js'
import { OutboxRelay, type OutboxRelayOptions } from './outbox-relay.js'

const eventually = { timeout: 20_000, interval: 50 }
type Event = ReturnType<typeof bookingCreated>
let db: TestDatabase
let redis: RedisServer
let prefix: string
let dispatcher: Dispatcher<typeof bookingCatalog>
const running: OutboxRelay<Event>[] = []
const children: ChildProcess[] = []

beforeAll(async () => {
  ;[db, redis] = await Promise.all([createTestDatabase('outbox'), startRedis()])
  await installOutbox({ database: db.url })
})
afterAll(async () => {
  await db?.drop()
  await redis?.stop()
})
beforeEach(async () => {
  await db.pool.query('TRUNCATE cachesaga.outbox')
  prefix = `outbox-${Math.random().toString(36).slice(2, 8)}`
  dispatcher = new Dispatcher({ redis: redis.url, prefix, catalog: bookingCatalog })
})
afterEach(async () => {
  for (const child of children.splice(0)) child.kill('SIGKILL')
  await Promise.all(running.splice(0).map((relay) => relay.stop()))
  await dispatcher.close()
})

function relay(options: Partial<OutboxRelayOptions<Event>> = {}): OutboxRelay<Event> {
  const created = new OutboxRelay<Event>({ database: db.url, dispatcher, pollInterval: '200ms', ...options })
  running.push(created)
  return created
}

/** Appends `count` events, each in a transaction of its own; resolves with their event ids. */
async function commitEvents(count: number, from = 0): Promise<string[]> {
  const ids: string[] = []
  for (let n = from; n < from + count; n++) {
    const event = bookingCreated(n)
    const client = await db.pool.connect()
    try {
      await client.query('BEGIN')
      await appendToOutbox(client, [event])
      await client.query('COMMIT')
    } finally {
      client.release()
    }
    ids.push(event.eventId)
  }
  return ids
}

async function unpublished(): Promise<number> {
  const { rows } = await db.pool.query<{ count: string }>(
    'SELECT count(*) FROM cachesaga.outbox WHERE published_at IS NULL',
  )
  return Number(rows[0]!.count)
}

describe('appending to the outbox', () => {
  it('stores nothing when the transaction rolls back, and the events in order when it commits', async () => {
    const client = await db.pool.connect()
    const kept = [bookingCreated(1), bookingCreated(2)]
    try {
      await client.query('BEGIN')
      await appendToOutbox(client, [bookingCreated(0)])
      await client.query('ROLLBACK')
      await client.query('BEGIN')
      const ids = await appendToOutbox(client, kept)
      await client.query('COMMIT')
      expect(ids).toHaveLength(2)
      expect(Number(ids[0])).toBeLessThan(Number(ids[1]))
    } finally {
      client.release()
    }
    const { rows } = await db.pool.query<{ event: Event }>('SELECT event FROM cachesaga.outbox ORDER BY id')
    expect(rows.map((row) => row.event.eventId)).toEqual(kept.map((event) => event.eventId))
  })
})

describe('relaying to the queue', () => {
  it('is woken by the NOTIFY of a commit, and dispatches each event to the real queue once', async () => {
    await relay({ pollInterval: '1h' }).start()
    const eventIds = await commitEvents(3)
    await vi.waitFor(async () => expect(await unpublished()).toBe(0), eventually)
    const jobs = await jobsPerEventId(redis.url, prefix)
    expect([...jobs.keys()].sort()).toEqual([...eventIds].sort())
    expect([...jobs.values()].every((count) => count === 1)).toBe(true)
  })

  it('dispatches what was committed while no relay ran, as soon as one starts', async () => {
    const eventIds = await commitEvents(4)
    await relay().start()
    await vi.waitFor(async () => expect(await unpublished()).toBe(0), eventually)
    expect((await jobsPerEventId(redis.url, prefix)).size).toBe(eventIds.length)
  })

  it('keeps a batch the dispatcher refused, records why, and dispatches it on a later run', async () => {
    await commitEvents(2)
    let refuse = true
    const flaky = relay({
      pollInterval: '1h',
      dispatcher: {
        dispatchAll: async (events) => {
          if (refuse) throw new Error('queue unreachable')
          return dispatcher.dispatchAll(events)
        },
      },
    })
    const failures: unknown[] = []
    flaky.on('failure', (error) => failures.push(error))
    expect(await flaky.relayPending()).toBe(0)
    expect(failures).toMatchObject([{ code: 'PG_ERR_DISPATCH_FAILED' }])
    const { rows } = await db.pool.query('SELECT attempts, published_at FROM cachesaga.outbox ORDER BY id')
    expect(rows).toEqual([
      { attempts: 1, published_at: null },
      { attempts: 1, published_at: null },
    ])
    refuse = false
    expect(await flaky.relayPending()).toBe(2)
    expect((await jobsPerEventId(redis.url, prefix)).size).toBe(2)
  })
})

describe('two relays', () => {
  it('dispatch every event of concurrent writers, none twice in the queue', async () => {
    const first = relay({ batchSize: 7 })
    const second = relay({ batchSize: 7 })
    const batches: string[][] = []
    for (const one of [first, second]) one.on('dispatched', (ids) => batches.push(ids))
    await Promise.all([first.start(), second.start()])
    const eventIds = (
      await Promise.all([commitEvents(60, 0), commitEvents(60, 60), commitEvents(60, 120)])
    ).flat()
    await vi.waitFor(async () => expect(await unpublished()).toBe(0), eventually)
    const dispatchedIds = batches.flat()
    // No outbox row went out twice (row locks), and nothing was missed.
    expect(new Set(dispatchedIds).size).toBe(dispatchedIds.length)
    expect(dispatchedIds).toHaveLength(180)
    const jobs = await jobsPerEventId(redis.url, prefix)
    expect([...jobs.keys()].sort()).toEqual([...eventIds].sort())
    expect(Math.max(...jobs.values())).toBe(1)
  })
})

describe('a relay killed mid-batch', () => {
  it('leaves its batch to the other relay, and the queue holds every event once', async () => {
    const eventIds = await commitEvents(25)
    const child = fork(
      fileURLToPath(new URL('../test-support/relay-child.ts', import.meta.url)),
      [db.url, redis.url, prefix],
      {
        execArgv: ['--import', 'tsx'],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      },
    )
    children.push(child)
    // It dispatched its first batch of 10 to the queue, and dies before it can mark them published.
    const dispatched = await new Promise<{ count: number }>((resolve) => child.once('message', resolve))
    expect(dispatched.count).toBe(10)
    const survivor = relay({ batchSize: 10 })
    // While the dying relay holds its rows locked, the survivor takes the others only.
    expect(await survivor.relayPending()).toBe(15)
    child.kill('SIGKILL')
    await new Promise((resolve) => child.once('exit', resolve))
    await vi.waitFor(async () => expect(await survivor.relayPending()).toBe(10), eventually)
    expect(await unpublished()).toBe(0)
    const jobs = await jobsPerEventId(redis.url, prefix)
    expect([...jobs.keys()].sort()).toEqual([...eventIds].sort())
    expect(Math.max(...jobs.values())).toBe(1)
  })
})

describe('options', () => {
  it('rejects a dispatcher without dispatchAll, naming the field', () => {
    expect(() => new OutboxRelay({ database: db.url, dispatcher: {} as never })).toThrow(
      expect.objectContaining({
        code: 'PG_ERR_INVALID_OPTIONS',
        message: expect.stringContaining('OutboxRelayOptions.dispatcher'),
      }),
    )
  })
})
