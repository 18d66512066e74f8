import { randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { createSagaRunner, defineSaga, type SagaChange, type SagaRunner } from '@cachesaga/saga'
import { EffectLedger, inBatches, runCrashPointChild } from '@cachesaga/saga/testing'
import { eventually } from '@cachesaga/testkit'
import type pg from 'pg'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { installOutbox } from '../outbox/outbox.js'
import { createTestDatabase, type TestDatabase } from '../test-support/test-database.js'
import { BOOKINGS_SQL, committedRows, transactionalBooking } from '../test-support/transactional-booking.js'
import { installSagaStore } from './install-saga-store.js'
import { PostgresSagaStore, type PostgresSagaStoreOptions } from './postgres-saga-store.js'

// A step declared `transaction: true` writes the booking and its outbox event through `ctx.transaction`, and the
// store records the step's completion in that same transaction: the two commit together or not at all, whatever
// happens to the runner, the connection or the step's timeout.

const CHILD = fileURLToPath(new URL('../test-support/transaction-crash-child.ts', import.meta.url))
const LEASE_MS = 400
let db: TestDatabase
const stores: PostgresSagaStore[] = []
const runners: SagaRunner[] = []

beforeAll(async () => {
  db = await createTestDatabase('step_transactions', { durable: true })
  await installSagaStore({ database: db.url })
  await installOutbox({ database: db.url })
  await db.pool.query(BOOKINGS_SQL)
})
afterEach(async () => {
  await Promise.all(runners.splice(0).map((runner) => runner.close()))
  await Promise.all(stores.splice(0).map((store) => store.close()))
})
afterAll(async () => {
  await db?.drop()
})

function storeOn(options: Partial<PostgresSagaStoreOptions> = {}): PostgresSagaStore {
  const store = new PostgresSagaStore({ database: db.url, ...options })
  stores.push(store)
  return store
}

function runnerOn(store: PostgresSagaStore, more: Partial<Parameters<typeof createSagaRunner>[0]> = {}) {
  const runner = createSagaRunner({ store, lease: LEASE_MS, ...more })
  runners.push(runner)
  return runner
}

describe('a pivot that books in the store transaction', () => {
  it('commits the booking, its outbox event and its completion together', async () => {
    const runner = runnerOn(storeOn())
    const ledger = new EffectLedger()
    const outcome = await runner.run(transactionalBooking(ledger), { slot: 'mon-9' }, { sagaId: 'bk-1' })
    expect(outcome).toMatchObject({ state: 'completed', results: { commit: { bookingId: 'bk-1' } } })
    expect(await committedRows(db.pool, 'bk-1')).toEqual({ bookings: 1, events: 1 })
    expect(await ledger.calls()).toEqual({ hold: 1, commit: 1, notify: 1 })
  })

  it('leaves no booking and no event when the domain says no, and rolls the saga back', async () => {
    const runner = runnerOn(storeOn())
    const ledger = new EffectLedger()
    await runner.run(transactionalBooking(ledger), { slot: 'tue-9' }, { sagaId: 'bk-2' })
    const taken = await runner.run(transactionalBooking(ledger), { slot: 'tue-9' }, { sagaId: 'bk-3' })
    expect(taken).toMatchObject({
      state: 'compensated',
      error: { code: 'SAGA_ERR_DOMAIN_REJECTION', domainCode: 'BOOKING_ERR_SLOT_TAKEN', step: 'commit' },
    })
    expect(await committedRows(db.pool, 'bk-3')).toEqual({ bookings: 0, events: 0 })
    expect(await ledger.applied()).toMatchObject({ release: 1 })
  })

  it('commits nothing when the step outlasts its timeout, and cancels the statement it was stuck in', async () => {
    const runner = runnerOn(storeOn())
    const stuck = defineSaga('stuck-in-transaction', { input: z.object({}) }).step('commit', {
      kind: 'pivot',
      transaction: true,
      timeout: '300ms',
      retry: { attempts: 1 },
      run: async (ctx) => {
        const client = ctx.transaction as pg.PoolClient
        await client.query(`INSERT INTO bookings (id, slot) VALUES ('bk-4', 'wed-9')`)
        await client.query(`SELECT pg_sleep(30), 'stuck-step'`)
      },
    })
    const outcome = await runner.run(stuck, {}, { sagaId: 'bk-4' })
    expect(outcome).toMatchObject({ state: 'parked', error: { code: 'SAGA_ERR_STEP_TIMEOUT' } })
    expect(await committedRows(db.pool, 'bk-4')).toEqual({ bookings: 0, events: 0 })
    // The backend was ended under the statement, rather than left sleeping on with the booking's locks.
    await eventually('the stuck statement ends', async () => {
      const { rows } = await db.pool.query(
        `SELECT 1 FROM pg_stat_activity WHERE query LIKE '%stuck-step%' AND pid <> pg_backend_pid()`,
      )
      return rows.length === 0 ? true : undefined
    })
  })
})

describe('a COMMIT that got no answer', () => {
  // A deferred trigger makes COMMIT itself slow: it sleeps for the seconds written in the row, at commit time. The
  // store's queryTimeout (3 s) gives up waiting for the answer; the store then asks PostgreSQL what became of it.
  beforeAll(async () => {
    await db.pool.query(`
      CREATE TABLE slow_commits (key text PRIMARY KEY, seconds double precision NOT NULL);
      CREATE FUNCTION sleep_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN PERFORM pg_sleep(NEW.seconds); RETURN NULL; END $$;
      CREATE CONSTRAINT TRIGGER sleep_at_commit AFTER INSERT ON slow_commits
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION sleep_at_commit();`)
  })

  /** Runs a step's transaction directly: it writes a row that makes COMMIT take `seconds`. */
  async function commitTaking(seconds: number) {
    const store = storeOn({ queryTimeout: '3s' })
    const sagaId = `slow-${randomUUID().slice(0, 8)}`
    const started: SagaChange = {
      kind: 'phase',
      phase: 'step',
      step: 'commit',
      status: 'started',
      attempt: 1,
    }
    await store.acquire(
      sagaId,
      { token: 'me', ms: 60_000 },
      { name: 'slow', inputJson: '{}', changes: [started] },
    )
    const outcome = await store
      .stepTransactions!.run(
        { sagaId, token: 'me' },
        async (transaction) => {
          await (transaction as pg.PoolClient).query('INSERT INTO slow_commits VALUES ($1, $2)', [
            sagaId,
            seconds,
          ])
          return { key: sagaId }
        },
        (result) => [
          { ...started, status: 'completed', resultJson: JSON.stringify(result) } satisfies SagaChange,
        ],
        new AbortController().signal,
      )
      .catch((error: unknown) => error)
    const { rowCount } = await db.pool.query('SELECT 1 FROM slow_commits WHERE key = $1', [sagaId])
    return { outcome, committed: rowCount === 1, step: (await store.load(sagaId))?.steps.get('commit') }
  }

  it('returns the result when the commit went through after all', async () => {
    // Answer overdue at 3 s; the commit lands at about 3.8 s, inside the 1.5 s the store lets a running one finish.
    const { outcome, committed, step } = await commitTaking(3.8)
    expect(outcome).toEqual({ key: expect.stringMatching(/^slow-/) })
    expect(committed).toBe(true)
    expect(step).toMatchObject({ status: 'completed', result: outcome })
  }, 20_000)

  it('rejects with the timeout when it did not commit: the backend still at it was ended, and nothing was kept', async () => {
    const { outcome, committed, step } = await commitTaking(60)
    expect(outcome).toMatchObject({ code: 'PG_ERR_QUERY_TIMEOUT' })
    expect(committed).toBe(false)
    expect(step).toMatchObject({ status: 'started' })
  }, 20_000)
})

describe('a pivot in the store transaction, its runner SIGKILLed at every point', () => {
  /** A run of its own: its saga, its ledger, and its own schema, so that no other run's recovery takes its saga. */
  const childEnv = async (run: string) => {
    const schema = `crash_${run}_${randomUUID().slice(0, 8)}`
    await installSagaStore({ database: db.url, schema })
    return {
      CRASH_DATABASE: db.url,
      CRASH_SCHEMA: schema,
      SAGA_ID: `crash-${run}-${randomUUID().slice(0, 8)}`,
      LEASE_MS: String(LEASE_MS),
      LEDGER_FILE: new EffectLedger().file,
    }
  }

  it('books exactly once: killed before COMMIT the step runs again, after COMMIT it never does', async () => {
    const { points } = await runCrashPointChild(CHILD, await childEnv('dry'))
    expect(points).toEqual([
      'saga.started',
      'step.started hold',
      'effect:hold',
      'step.completed hold',
      'step.started commit',
      'effect:commit',
      'step.completed commit',
      'step.started notify',
      'effect:notify',
      'step.completed notify',
      'saga.completed',
    ])

    const runs = await inBatches(
      points.map((point, index) => async () => {
        const env = await childEnv(String(index))
        await runCrashPointChild(CHILD, env, (_, reached) => (reached === index ? 'kill' : 'continue'))
        const ledger = new EffectLedger(env.LEDGER_FILE)
        const runner = runnerOn(storeOn({ schema: env.CRASH_SCHEMA }), {
          sagas: [transactionalBooking(ledger)],
        })
        const state = await eventually(
          `saga ${env.SAGA_ID} rests`,
          async () => {
            await runner.recover()
            const record = (await runner.operator.inspect(env.SAGA_ID))?.record
            return record && !['running', 'compensating'].includes(record.state) ? record.state : undefined
          },
          { timeoutMs: 20_000 },
        )
        return {
          point,
          state,
          rows: await committedRows(db.pool, env.SAGA_ID),
          applied: await ledger.applied(),
          commitRuns: (await ledger.calls()).commit,
        }
      }),
      3,
    )
    for (const { point, commitRuns, ...run } of runs) {
      expect({ point, ...run }).toEqual({
        point,
        state: 'completed',
        rows: { bookings: 1, events: 1 },
        applied: { hold: 1, commit: 1, notify: 1 },
      })
      // Only a kill inside the transaction (after the insert, before COMMIT) made the step run twice; that first
      // run's booking was never committed, so the second insert found the slot free.
      expect({ point, commitRuns }).toEqual({ point, commitRuns: point === 'effect:commit' ? 2 : 1 })
    }
  }, 180_000)
})
