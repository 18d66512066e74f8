// A saga run in a child process that stops at every crash point (every emitted transition, and inside each step right
// after its side effect) until the parent answers on stdin, so the parent can SIGKILL it at an exact point.
// Env: STORE_MODULE and STORE_NAMESPACE (the store, see `SagaStoreContractOptions`), SAGA_ID, REJECT_AT_COMMIT ('1'
// rolls back), LEASE_MS, LEDGER_FILE.
import { writeSync } from 'node:fs'
import { createSagaRunner } from '../runtime/saga-runner.js'
import { bookingSaga } from './booking-saga.js'
import { pauseAtCrashPoint as pauseAt } from './crash-points.js'
import { EffectLedger } from './effects.js'
import { loadStoreFactory } from './store-factory.js'

const env = (name: string) => {
  const value = process.env[name]
  if (value === undefined) throw new Error(`${name} is not set`)
  return value
}

const store = await (await loadStoreFactory(env('STORE_MODULE')))(env('STORE_NAMESPACE'))
const ledger = new EffectLedger(env('LEDGER_FILE'))
const runner = createSagaRunner({
  store,
  lease: Number(env('LEASE_MS')),
  events: { emit: (name, event) => pauseAt(event.step ? `${name} ${event.step}` : name) },
})
const outcome = await runner.run(
  bookingSaga(ledger, (point) => pauseAt(point)),
  { slot: 'mon-9', rejectAtCommit: env('REJECT_AT_COMMIT') === '1' },
  { sagaId: env('SAGA_ID') },
)
writeSync(1, `done ${outcome.state}\n`)
await runner.close()
await store.close()
