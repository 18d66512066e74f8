import { fileURLToPath } from 'node:url'
import { beforeAll } from 'vitest'
import { onEachTopology } from '../../test-support/redis.js'
import { describeSagaStoreContract } from '../../testing/contract.js'

// The Redis store passes the contract every SagaStore must pass, on a single node and on a Redis Cluster. The store
// module reads the connection from SAGA_CONTRACT_REDIS, which the crash-point children inherit.
onEachTopology((redis) => {
  beforeAll(() => {
    process.env.SAGA_CONTRACT_REDIS = JSON.stringify(redis.connection)
  })
  describeSagaStoreContract({
    name: 'RedisSagaStore',
    storeModule: fileURLToPath(new URL('../../test-support/contract-redis-store.ts', import.meta.url)),
  })
})
