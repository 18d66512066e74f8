import type pg from 'pg'
import type { BookingEvent } from '../bookings/booking-events.js'

/**
 * Records `event` for the relay. Call it inside the transaction that makes the event true, so the event is
 * committed exactly when its change is (and survives a crash right after the commit).
 */
export async function appendToOutbox(transaction: pg.PoolClient, event: BookingEvent): Promise<void> {
  await transaction.query('INSERT INTO outbox (event_type, payload) VALUES ($1, $2)', [event.type, event])
}
