// The transactional booking saga in a child process that stops at every crash point (every emitted transition, and
// inside each step right after its side effect: for the commit, inside its transaction before COMMIT) until the parent
// answers, so the parent can SIGKILL it there. Env: CRASH_DATABASE, CRASH_SCHEMA, SAGA_ID, LEASE_MS, LEDGER_FILE.
import { writeSync } from 'node:fs'
import { createSagaRunner } from '@cachesaga/saga'
import { EffectLedger, pauseAtCrashPoint } from '@cachesaga/saga/testing'
import { PostgresSagaStore } from '../saga-store/postgres-saga-store.js'
import { transactionalBooking } from './transactional-booking.js'

const env = (name: string) => {
  const value = process.env[name]
  if (value === undefined) throw new Error(`${name} is not set`)
  return value
}

const store = new PostgresSagaStore({ database: env('CRASH_DATABASE'), schema: env('CRASH_SCHEMA') })
const runner = createSagaRunner({
  store,
  lease: Number(env('LEASE_MS')),
  events: { emit: (name, event) => pauseAtCrashPoint(event.step ? `${name} ${event.step}` : name) },
})
const sagaId = env('SAGA_ID')
const saga = transactionalBooking(new EffectLedger(env('LEDGER_FILE')), pauseAtCrashPoint)
const outcome = await runner.run(saga, { slot: sagaId }, { sagaId })
writeSync(1, `done ${outcome.state}\n`)
await runner.close()
await store.close()
