import { eventually } from '@cachesaga/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventIdOf } from '../bookings/booking-events.js'
import { runSagaChild } from '../test-support/crash-saga.js'
import { adasBooking, type SagaFixture, startSagaFixture } from '../test-support/saga-fixture.js'

// The booking saga's pivot runs in a transaction of the PostgreSQL saga store: the booking row, its outbox row and the
// record that the step completed commit together. A runner SIGKILLed on either side of that COMMIT leaves all three
// or none of them, never a booking whose step is still "started"; another runner's recovery then finishes the saga,
// every effect once.

let f: SagaFixture
beforeAll(async () => {
  f = await startSagaFixture('pivot_transaction')
})
afterAll(() => f?.close())

function bookingSaga(start: string) {
  const input = adasBooking(start)
  const sagaId = `booking:${input.bookingId}`
  return { bookingId: input.bookingId, sagaId, child: { name: 'book' as const, sagaId, input } }
}

/** What the database holds of the pivot, read by the test while the child is frozen or dead. */
async function pivotState(bookingId: string, sagaId: string) {
  const { rows } = await f.db.pool.query<{ bookings: number; events: string[] }>(
    `SELECT (SELECT count(*)::int FROM bookings WHERE id = $1) AS bookings,
       ARRAY(SELECT event ->> 'eventId' FROM cachesaga.outbox
             WHERE event ->> 'type' = 'booking.created' AND event -> 'payload' ->> 'bookingId' = $1::text) AS events`,
    [bookingId],
  )
  const record = (await f.flows.runner.operator.inspect(sagaId))?.record
  return { ...rows[0]!, commit: record?.steps.get('commit')?.status }
}

/** Resumes the saga in the test's runner once the dead one's lease (1 s) ran out; it must complete. */
async function recovered(sagaId: string) {
  const outcome = await eventually(
    'the saga resumed',
    async () => (await f.flows.runner.recover()).find((resumed) => resumed.sagaId === sagaId),
    { timeoutMs: 15_000 },
  )
  expect(outcome).toMatchObject({ state: 'completed' })
  return outcome
}

/** Every effect of the booking once: the row, its event (the pivot's id), the calendar event, the announcement. */
async function expectEveryEffectOnce(bookingId: string, sagaId: string, start: string) {
  expect(await pivotState(bookingId, sagaId)).toEqual({
    bookings: 1,
    events: [eventIdOf(`${sagaId}:commit`)],
    commit: 'completed',
  })
  expect((await f.adasEvents()).filter((event) => event.id === `booking-${bookingId}`)).toHaveLength(1)
  expect(f.announced.filter((event) => event.payload.bookingId === bookingId)).toMatchObject([
    { type: 'booking.created', eventId: eventIdOf(`${sagaId}:commit`) },
  ])
  expect(await f.free(start.slice(0, 10))).not.toContain(start)
}

const commitStarts = async (sagaId: string) =>
  (await f.flows.runner.operator.inspect(sagaId))!.log.filter(
    (entry) => entry.event === 'step.started' && entry.step === 'commit',
  ).length

describe('the booking pivot in the saga store transaction', () => {
  it('has committed the booking, its outbox row and its completion together when its runner dies right after COMMIT', async () => {
    const start = '2026-12-07T08:00:00.000Z'
    const { bookingId, sagaId, child } = bookingSaga(start)
    const eventId = eventIdOf(`${sagaId}:commit`)
    const seen: Array<{ point: string } & Awaited<ReturnType<typeof pivotState>>> = []
    const points = await runSagaChild(child, f.childEnv, async (point) => {
      seen.push({ point, ...(await pivotState(bookingId, sagaId)) })
      return point === 'step.completed commit' ? 'kill' : 'continue'
    })
    // Frozen inside the transaction (the booking and its event written), just before its COMMIT, and right after it.
    expect(points.slice(-4)).toEqual([
      'step.started commit',
      'written commit',
      'COMMIT',
      'step.completed commit',
    ])
    expect(seen.slice(-3)).toEqual([
      { point: 'written commit', bookings: 0, events: [], commit: 'started' },
      { point: 'COMMIT', bookings: 0, events: [], commit: 'started' },
      { point: 'step.completed commit', bookings: 1, events: [eventId], commit: 'completed' },
    ])
    // At every point the child stopped at, the three were all there or none was.
    for (const { point, bookings, events, commit } of seen) {
      const done = commit === 'completed'
      expect({ point, bookings, events }).toEqual({
        point,
        bookings: done ? 1 : 0,
        events: done ? [eventId] : [],
      })
    }

    await recovered(sagaId)
    await expectEveryEffectOnce(bookingId, sagaId, start)
    // The pivot was not run again: recovery went on from the step after it.
    expect(await commitStarts(sagaId)).toBe(1)
  }, 60_000)

  it('has committed none of them when its runner dies inside the transaction, and books once on recovery', async () => {
    const start = '2026-12-07T09:00:00.000Z'
    const { bookingId, sagaId, child } = bookingSaga(start)
    await runSagaChild(child, f.childEnv, (point) => (point === 'written commit' ? 'kill' : 'continue'))
    // The dead runner's connection took its transaction with it.
    expect(await pivotState(bookingId, sagaId)).toEqual({ bookings: 0, events: [], commit: 'started' })

    await recovered(sagaId)
    await expectEveryEffectOnce(bookingId, sagaId, start)
    expect(await commitStarts(sagaId)).toBe(2)
  }, 60_000)
})
