import { fileURLToPath } from 'node:url'
import { describeSagaStoreContract } from '@cachesaga/saga/testing'
import type pg from 'pg'
import { afterAll, beforeAll } from 'vitest'
import { createTestDatabase, type TestDatabase } from '../test-support/test-database.js'

// The PostgreSQL store passes the contract every SagaStore must pass, its step transactions included: a business row
// written through `ctx.transaction` commits with the step's completion, or neither does. On the run's durable server,
// since runners refuse a store that can lose sagas. The store module reads the database from SAGA_CONTRACT_DATABASE,
// which the crash-point children inherit.
let db: TestDatabase

beforeAll(async () => {
  db = await createTestDatabase('saga_contract', { durable: true })
  await db.pool.query('CREATE TABLE business_writes (key text PRIMARY KEY)')
  process.env.SAGA_CONTRACT_DATABASE = db.url
})
afterAll(async () => {
  await db?.drop()
})

describeSagaStoreContract({
  name: 'PostgresSagaStore',
  storeModule: fileURLToPath(new URL('../test-support/contract-postgres-store.ts', import.meta.url)),
  transactionProbe: {
    write: async (transaction, key) => {
      await (transaction as pg.PoolClient).query('INSERT INTO business_writes (key) VALUES ($1)', [key])
    },
    committed: async (key) =>
      (await db.pool.query('SELECT 1 FROM business_writes WHERE key = $1', [key])).rowCount === 1,
  },
})
