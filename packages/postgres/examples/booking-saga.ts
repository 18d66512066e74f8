import { appendToOutbox, installOutbox, installSagaStore, PostgresSagaStore } from '@cachesaga/postgres'
import { createSagaRunner, DomainRejection, defineSaga } from '@cachesaga/saga'
import pg from 'pg'
import { z } from 'zod'

// A clinic's own schema: one appointment per slot.
const db = new pg.Pool({ connectionString: process.env.DATABASE_URL })
await db.query(`CREATE TABLE appointments (
  id text PRIMARY KEY, slot text NOT NULL UNIQUE, patient text NOT NULL)`)
await installSagaStore({ database: db }) // or sagaStoreSql() for your migration tool
await installOutbox({ database: db })

// Saga state beside the appointments, on the app's pool: a step's transaction is a transaction of this database.
const store = new PostgresSagaStore({ database: db })
const runner = createSagaRunner({ store })

const bookAppointment = defineSaga('book-appointment', {
  input: z.object({ slot: z.string(), patient: z.string() }),
})
  .step('hold-slot', {
    run: async (ctx) => ({ holdId: `hold:${ctx.input.slot}` }),
    compensate: async (ctx) => console.log(`released ${ctx.result?.holdId}`),
  })
  .step('book', {
    kind: 'pivot',
    // The appointment, its event and the record that this step completed commit together, or none of them does.
    transaction: true,
    run: async (ctx) => {
      const transaction = ctx.transaction as pg.PoolClient
      const inserted = await transaction.query(
        'INSERT INTO appointments VALUES ($1, $2, $3) ON CONFLICT (slot) DO NOTHING',
        [ctx.sagaId, ctx.input.slot, ctx.input.patient],
      )
      if (inserted.rowCount === 0) {
        throw new DomainRejection('BOOKING_ERR_SLOT_TAKEN', `${ctx.input.slot} is taken`)
      }
      await appendToOutbox(transaction, [
        { id: `${ctx.sagaId}:booked`, type: 'appointment.booked', slot: ctx.input.slot },
      ])
      return { appointmentId: ctx.sagaId }
    },
  })
  .step('notify', {
    run: async (ctx) => console.log(`confirmation sent for ${ctx.results.book.appointmentId}`),
  })

const booked = await runner.run(bookAppointment, { slot: 'mon 09:00', patient: 'Ada' }, { sagaId: 'appt-1' })
console.log(booked.state, booked.results.book)

const taken = await runner.run(bookAppointment, { slot: 'mon 09:00', patient: 'Grace' }, { sagaId: 'appt-2' })
console.log(taken.state, taken.error?.domainCode)

const { rows } = await db.query(`SELECT
  (SELECT count(*)::int FROM appointments) AS appointments,
  (SELECT count(*)::int FROM cachesaga.outbox) AS events,
  (SELECT state FROM cachesaga.sagas WHERE saga_id = 'appt-2') AS "appt-2"`)
console.log(rows[0])

await runner.close()
await store.close()
await db.end()
