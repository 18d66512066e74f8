// The store module of the Redis store's contract run: a Redis store on SAGA_CONTRACT_REDIS (JSON: a URL or
// { cluster: nodes }), read at each call (a test file sets it per topology), one key prefix per namespace.
import { createRedisSagaStore } from '../store/redis/redis-store-options.js'
import type { SagaStoreFactory } from '../testing/store-factory.js'

const factory: SagaStoreFactory = (namespace) => {
  const connection = process.env.SAGA_CONTRACT_REDIS
  if (connection === undefined) throw new Error('SAGA_CONTRACT_REDIS is not set')
  return createRedisSagaStore({ redis: JSON.parse(connection), keyPrefix: `${namespace}:` })
}
export default factory
