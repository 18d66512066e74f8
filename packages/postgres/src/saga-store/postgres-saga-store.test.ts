import { createSagaRunner, type SagaRunner } from '@cachesaga/saga'
import { bookingSaga, EffectLedger } from '@cachesaga/saga/testing'
import { getFreePort } from '@cachesaga/testkit'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase, type TestDatabase } from '../test-support/test-database.js'
import { durabilityProblems } from './durability.js'
import { installSagaStore, sagaStoreSql } from './install-saga-store.js'
import { PostgresSagaStore, type PostgresSagaStoreOptions } from './postgres-saga-store.js'

// What the contract does not cover: which PostgreSQL a runner accepts as a saga store, and a store that cannot be
// used (not installed, unreachable). The fast test server runs without fsync; the durable one with the defaults.

let fast: TestDatabase
let durable: TestDatabase
const stores: PostgresSagaStore[] = []
const runners: SagaRunner[] = []

beforeAll(async () => {
  fast = await createTestDatabase('saga_store_fast')
  durable = await createTestDatabase('saga_store_durable', { durable: true })
  await Promise.all([installSagaStore({ database: fast.url }), installSagaStore({ database: durable.url })])
})
afterEach(async () => {
  await Promise.all(runners.splice(0).map((runner) => runner.close()))
  await Promise.all(stores.splice(0).map((store) => store.close()))
})
afterAll(async () => {
  await fast?.drop()
  await durable?.drop()
})

function storeOn(options: PostgresSagaStoreOptions): PostgresSagaStore {
  const store = new PostgresSagaStore(options)
  stores.push(store)
  return store
}

function runnerOn(store: PostgresSagaStore, more: Partial<Parameters<typeof createSagaRunner>[0]> = {}) {
  const runner = createSagaRunner({ store, ...more })
  runners.push(runner)
  return runner
}

describe('durabilityProblems', () => {
  const safe = { fsync: 'on', synchronousCommit: 'on', fullPageWrites: 'on', unloggedTables: [] }

  it('accepts fsync and full_page_writes on, with any synchronous_commit but off', () => {
    for (const synchronousCommit of ['on', 'local', 'remote_write', 'remote_apply']) {
      expect(durabilityProblems({ ...safe, synchronousCommit }, 'cachesaga')).toEqual([])
    }
  })

  it('names every setting that can lose sagas, and what to set instead', () => {
    expect(
      durabilityProblems(
        { fsync: 'off', synchronousCommit: 'off', fullPageWrites: 'off', unloggedTables: ['saga_log'] },
        'app',
      ),
    ).toEqual([
      expect.stringMatching(/^fsync is "off": set fsync = on/),
      expect.stringMatching(/^synchronous_commit is "off" for the store's sessions: set it to on/),
      expect.stringMatching(/^full_page_writes is "off": set full_page_writes = on/),
      expect.stringMatching(/^table app\.saga_log is UNLOGGED: ALTER TABLE app\.saga_log SET LOGGED/),
    ])
  })
})

describe('a runner on a PostgreSQL that can lose sagas', () => {
  it('refuses to drive them, naming each setting, and runs nothing', async () => {
    const runner = runnerOn(storeOn({ database: fast.url }))
    const ledger = new EffectLedger()
    const error = await runner.run(bookingSaga(ledger), { slot: 'x' }, { sagaId: 'b1' }).catch((e) => e)
    expect(error).toMatchObject({
      code: 'SAGA_ERR_STORE_NOT_DURABLE',
      details: {
        target: expect.stringMatching(/^postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/saga_store_fast_/),
        problems: [
          expect.stringMatching(/^fsync is "off"/),
          expect.stringMatching(/^synchronous_commit is "off"/),
          expect.stringMatching(/^full_page_writes is "off"/),
        ],
      },
    })
    expect(error.message).not.toMatch(/[0-9a-f]{24}/) // the test server's password
    expect(await ledger.calls()).toEqual({})
  })

  it("reads synchronous_commit as the store's own sessions see it (a database or role setting counts)", async () => {
    await fast.pool.query(`ALTER DATABASE ${await databaseName(fast)} SET synchronous_commit = on`)
    try {
      const error = await storeOn({ database: fast.url })
        .checkDurability()
        .catch((e) => e)
      expect(error.details.problems).toEqual([
        expect.stringMatching(/^fsync is "off"/),
        expect.stringMatching(/^full_page_writes is "off"/),
      ])
    } finally {
      await fast.pool.query(`ALTER DATABASE ${await databaseName(fast)} RESET synchronous_commit`)
    }
  })

  it('drives them with requireDurableStore: false, and logs that once', async () => {
    const logged: Array<{ level: string; message: string }> = []
    const runner = runnerOn(storeOn({ database: fast.url }), {
      requireDurableStore: false,
      log: (level, message) => logged.push({ level, message }),
    })
    const ledger = new EffectLedger()
    for (const sagaId of ['b2', 'b3']) {
      expect((await runner.run(bookingSaga(ledger), { slot: sagaId }, { sagaId })).state).toBe('completed')
    }
    expect(logged).toEqual([
      { level: 'warn', message: expect.stringMatching(/^driving sagas anyway.*fsync is "off"/) },
    ])
  })
})

describe('a runner on a durable PostgreSQL', () => {
  it('drives sagas; an unlogged saga table is refused, and setting it logged again is enough', async () => {
    const store = storeOn({ database: durable.url })
    const runner = runnerOn(store)
    const ledger = new EffectLedger()
    await durable.pool.query('ALTER TABLE cachesaga.saga_log SET UNLOGGED')
    try {
      await expect(runner.run(bookingSaga(ledger), { slot: 'x' }, { sagaId: 'u1' })).rejects.toMatchObject({
        code: 'SAGA_ERR_STORE_NOT_DURABLE',
        details: { problems: [expect.stringMatching(/^table cachesaga\.saga_log is UNLOGGED/)] },
      })
    } finally {
      await durable.pool.query('ALTER TABLE cachesaga.saga_log SET LOGGED')
    }
    expect((await runner.run(bookingSaga(ledger), { slot: 'x' }, { sagaId: 'u1' })).state).toBe('completed')
    expect(await ledger.applied()).toEqual({ hold: 1, charge: 1, commit: 1, notify: 1 })
  })
})

describe('a store that cannot be used', () => {
  it('says the migration is missing, naming the schema and how to apply it', async () => {
    const store = storeOn({ database: durable.url, schema: 'nowhere' })
    await expect(store.ready()).rejects.toMatchObject({
      code: 'PG_ERR_NOT_INSTALLED',
      details: { schema: 'nowhere' },
      message: expect.stringContaining('installSagaStore()'),
    })
    await expect(runnerOn(store).operator.list('parked')).rejects.toMatchObject({
      code: 'PG_ERR_NOT_INSTALLED',
    })
  })

  it('fails within connectTimeout when PostgreSQL is unreachable, naming it without the password', async () => {
    const port = await getFreePort()
    const runner = runnerOn(
      storeOn({ database: `postgres://app:s3cret@127.0.0.1:${port}/bookings`, connectTimeout: '300ms' }),
    )
    const started = Date.now()
    const error = await runner.operator.list('parked').catch((e) => e)
    expect(Date.now() - started).toBeLessThan(2_000)
    expect(error).toMatchObject({
      code: 'PG_ERR_UNREACHABLE',
      details: { database: `postgres://app:***@127.0.0.1:${port}/bookings` },
    })
    expect(error.message).not.toContain('s3cret')
  })

  it('refuses a schema name it would have to quote', () => {
    expect(() => storeOn({ database: durable.url, schema: 'Saga; DROP' })).toThrow(
      expect.objectContaining({
        code: 'PG_ERR_INVALID_OPTIONS',
        details: { field: 'PostgresSagaStoreOptions.schema' },
      }),
    )
  })
})

describe('the migration', () => {
  it('is SQL for your migration tool that can be applied again, in another schema too', async () => {
    const sql = sagaStoreSql({ schema: 'booking_sagas' })
    expect(sql).toContain('CREATE TABLE IF NOT EXISTS "booking_sagas".sagas')
    await durable.pool.query(sql)
    await durable.pool.query(sql)
    const store = storeOn({ database: durable.url, schema: 'booking_sagas' })
    await store.ready()
    expect(await store.listByState('running')).toEqual([])
  })
})

async function databaseName(database: TestDatabase): Promise<string> {
  const { rows } = await database.pool.query<{ name: string }>('SELECT current_database() AS name')
  return rows[0]!.name
}
