// A store that offers step transactions, for testing the runner's side of the hook and the contract's transaction
// tests: the Redis store of SAGA_CONTRACT_REDIS, plus a stand-in transaction. A "transaction" is a list of business
// writes (keys); it commits (its keys join `committed`) only once the step's completion was written under the lease's
// fence, and is dropped when the work fails, the lease was lost, or the step timed out before. Unlike a database's,
// the stand-in is not atomic across a crash; the PostgreSQL store's transaction is.
import type { SagaStore, StepTransactions } from '../store/saga-store.js'
import type { SagaStoreFactory } from '../testing/store-factory.js'
import contractRedisStore from './contract-redis-store.js'

/** Business writes that committed, in this process. */
export const committed = new Set<string>()

function withTransactions(store: SagaStore): SagaStore {
  const stepTransactions: StepTransactions = {
    async run(fence, work, completion, signal) {
      const writes: string[] = []
      const result = await work(writes)
      if (signal.aborted) throw signal.reason
      await store.advance(fence.sagaId, fence.token, completion(result))
      for (const key of writes) committed.add(key)
      return result
    },
  }
  // Every method of the Redis store, bound to it, plus the transactions.
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'stepTransactions') return stepTransactions
      const value = Reflect.get(target, property, receiver)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}

const factory: SagaStoreFactory = async (namespace) => withTransactions(await contractRedisStore(namespace))
export default factory
