import { bookingCatalog, Dispatcher } from '@cachesaga/queue'
import {
  isChildOf,
  type RedisServer,
  type SpanRecorder,
  startRedis,
  startSpanRecorder,
} from '@cachesaga/testkit'
import { trace } from '@opentelemetry/api'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { bookingCreated } from '../test-support/queued-events.js'
import { createTestDatabase, type TestDatabase } from '../test-support/test-database.js'
import { appendToOutbox, installOutbox } from './outbox.js'
import { OutboxRelay } from './outbox-relay.js'

type Event = ReturnType<typeof bookingCreated>
let db: TestDatabase
let redis: RedisServer
let dispatcher: Dispatcher<typeof bookingCatalog>
let relay: OutboxRelay<Event>
let spans: SpanRecorder

beforeAll(async () => {
  ;[db, redis] = await Promise.all([createTestDatabase('outbox_trace'), startRedis()])
  await installOutbox({ database: db.url })
  spans = startSpanRecorder()
})
afterAll(async () => {
  await spans?.stop()
  await db?.drop()
  await redis?.stop()
})
beforeEach(async () => {
  await db.pool.query('TRUNCATE cachesaga.outbox')
  spans.reset()
  const prefix = `outbox-trace-${Math.random().toString(36).slice(2, 8)}`
  dispatcher = new Dispatcher({ redis: redis.url, prefix, catalog: bookingCatalog })
  relay = new OutboxRelay<Event>({ database: db.url, dispatcher, pollInterval: '1m' })
})
afterEach(async () => {
  await relay.stop()
  await dispatcher.close()
})

/** Commits `event` to the outbox inside an application span `name` (a request), or outside any span. */
async function commitIn(name: string | undefined, event: Event): Promise<void> {
  const commit = async () => {
    const client = await db.pool.connect()
    try {
      await client.query('BEGIN')
      await appendToOutbox(client, [event])
      await client.query('COMMIT')
    } finally {
      client.release()
    }
  }
  if (name === undefined) return commit()
  await trace.getTracer('the application').startActiveSpan(name, async (span) => {
    try {
      await commit()
    } finally {
      span.end()
    }
  })
}

describe('the outbox while the app traces', () => {
  it('keeps the context each event was committed in, and the relay sends each event in its own', async () => {
    await commitIn('POST /bookings 1', bookingCreated(1))
    await commitIn('POST /bookings 2', bookingCreated(2))
    await commitIn(undefined, bookingCreated(3))
    const { rows } = await db.pool.query<{ trace: Record<string, string> | null }>(
      'SELECT trace FROM cachesaga.outbox ORDER BY id',
    )
    expect(rows.map((row) => row.trace?.traceparent)).toEqual([
      `00-${spans.one('POST /bookings 1').spanContext().traceId}-${spans.one('POST /bookings 1').spanContext().spanId}-01`,
      `00-${spans.one('POST /bookings 2').spanContext().traceId}-${spans.one('POST /bookings 2').spanContext().spanId}-01`,
      undefined,
    ])

    expect(await relay.relayPending()).toBe(3)
    const sends = spans.named('send booking')
    expect(sends).toHaveLength(3)
    expect(isChildOf(sends[0], spans.one('POST /bookings 1'))).toBe(true)
    expect(isChildOf(sends[1], spans.one('POST /bookings 2'))).toBe(true)
    expect(sends[2]?.parentSpanContext).toBeUndefined()
  })

  it('a stored context that does not validate is dropped, and the event is still sent', async () => {
    await commitIn(undefined, bookingCreated(4))
    await db.pool.query(`UPDATE cachesaga.outbox SET trace = '{"traceparent": "not-a-trace"}'`)
    expect(await relay.relayPending()).toBe(1)
    expect(spans.one('send booking').parentSpanContext).toBeUndefined()
  })
})
