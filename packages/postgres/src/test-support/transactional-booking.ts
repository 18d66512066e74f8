import { errorCode } from '@cachesaga/common'
import { DomainRejection, defineSaga, type StepContext } from '@cachesaga/saga'
import type { EffectLedger } from '@cachesaga/saga/testing'
import type pg from 'pg'
import { z } from 'zod'
import { appendToOutbox } from '../outbox/outbox.js'

/** The business table of the tests: one booking per slot. */
export const BOOKINGS_SQL = 'CREATE TABLE bookings (id text PRIMARY KEY, slot text NOT NULL UNIQUE)'

/** Called inside a step right after its side effect (inside the commit's transaction, before COMMIT). */
export type Checkpoint = (point: string) => void | Promise<void>

/**
 * hold (release) -> commit (pivot, in the store's transaction: the booking row and its outbox event, which commit with
 * the step's completion) -> notify. Every run of a step is recorded in the ledger (`calls`); the booking and its event
 * are recorded only by the database. A slot already booked is a domain rejection.
 */
export function transactionalBooking(ledger: EffectLedger, checkpoint: Checkpoint = () => {}) {
  const retry = { attempts: 3, initialDelay: 5, maxDelay: 20 }
  return defineSaga('book-in-transaction', { input: z.object({ slot: z.string().min(1) }) })
    .step('hold', {
      run: async (ctx) => {
        await ledger.apply('hold', ctx.idempotencyKey)
        await checkpoint('effect:hold')
      },
      compensate: async (ctx) => ledger.apply('release', ctx.idempotencyKey),
      retry,
    })
    .step('commit', {
      kind: 'pivot',
      transaction: true,
      run: commitBooking(ledger, checkpoint),
      retry: { attempts: 1 },
    })
    .step('notify', {
      run: async (ctx) => {
        await ledger.apply('notify', ctx.idempotencyKey)
        await checkpoint('effect:notify')
      },
      retry,
    })
}

/**
 * The pivot's run, for a step declared `transaction: true`: inserts the booking and appends its outbox event through
 * the step's transaction (a slot already booked is a domain rejection), and returns `{ bookingId }`.
 */
export function commitBooking(ledger: EffectLedger, checkpoint: Checkpoint = () => {}) {
  return async (ctx: StepContext<{ slot: string }, unknown>) => {
    const client = ctx.transaction as pg.PoolClient
    await ledger.apply('commit', ctx.idempotencyKey)
    try {
      await client.query('INSERT INTO bookings (id, slot) VALUES ($1, $2)', [ctx.sagaId, ctx.input.slot])
    } catch (error) {
      if (errorCode(error) !== '23505') throw error
      throw new DomainRejection('BOOKING_ERR_SLOT_TAKEN', `slot ${ctx.input.slot} is taken`)
    }
    await appendToOutbox(client, [{ type: 'booking.created', id: ctx.sagaId, slot: ctx.input.slot }])
    await checkpoint('effect:commit')
    return { bookingId: ctx.sagaId }
  }
}

/** How many bookings and outbox events the database holds for `bookingId`. */
export async function committedRows(
  pool: pg.Pool,
  bookingId: string,
): Promise<{ bookings: number; events: number }> {
  const { rows } = await pool.query<{ bookings: number; events: number }>(
    `SELECT (SELECT count(*)::int FROM bookings WHERE id = $1) AS bookings,
       (SELECT count(*)::int FROM cachesaga.outbox WHERE event->>'id' = $1) AS events`,
    [bookingId],
  )
  return rows[0]!
}
