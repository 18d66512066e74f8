import { fileURLToPath } from 'node:url'
import { beforeAll, describe } from 'vitest'
import { useRedis } from '../test-support/redis.js'
import { committed } from '../test-support/transactional-test-store.js'
import { describeSagaStoreContract } from '../testing/contract.js'

// A store that offers step transactions (the Redis store with a stand-in transaction) passes the contract, its
// transaction tests included: a store built around another one fits the interface, and the runner's side of the
// hook is exercised the way a PostgreSQL store will exercise it.
const server = useRedis({ allowExternal: false, persistence: 'aof' })

describe('a store with step transactions', () => {
  beforeAll(() => {
    process.env.SAGA_CONTRACT_REDIS = JSON.stringify(server.url)
  })
  describeSagaStoreContract({
    name: 'RedisSagaStore with stand-in step transactions',
    storeModule: fileURLToPath(new URL('../test-support/transactional-test-store.ts', import.meta.url)),
    transactionProbe: {
      write: async (transaction, key) => {
        ;(transaction as string[]).push(key)
      },
      committed: async (key) => committed.has(key),
    },
  })
})
