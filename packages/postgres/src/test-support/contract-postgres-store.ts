// The store module of the PostgreSQL store's contract run: a store on SAGA_CONTRACT_DATABASE with one schema per
// namespace, installed by whoever makes the store first (a crash-point child, or the test); installing again is
// harmless.
import type { SagaStoreFactory } from '@cachesaga/saga/testing'
import { installSagaStore } from '../saga-store/install-saga-store.js'
import { PostgresSagaStore } from '../saga-store/postgres-saga-store.js'

const factory: SagaStoreFactory = async (namespace) => {
  const database = process.env.SAGA_CONTRACT_DATABASE
  if (database === undefined) throw new Error('SAGA_CONTRACT_DATABASE is not set')
  const schema = namespace.replace(/[^a-z0-9_]/g, '_')
  await installSagaStore({ database, schema })
  return new PostgresSagaStore({ database, schema })
}
export default factory
