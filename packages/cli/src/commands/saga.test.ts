import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createCache } from '@cachesaga/core'
import { installSagaStore, PostgresSagaStore } from '@cachesaga/postgres'
import { createSagaRunner } from '@cachesaga/saga'
import { type PostgresServer, startPostgres } from '@cachesaga/testkit'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { namespace, useCli } from '../test-support/cli-runs.js'
import { notifyAfterInvalidation } from '../test-support/invalidating-saga.js'
import { notifyAfterBooking } from '../test-support/parking-saga.js'

const env = useCli()
const SAGAS_MODULE = fileURLToPath(new URL('../test-support/parking-saga.ts', import.meta.url))

describe('cachesaga saga', () => {
  let redis: Redis
  let dir: string
  beforeAll(() => {
    redis = new Redis(env.url)
    dir = mkdtempSync(join(tmpdir(), 'cachesaga-cli-'))
  })
  afterAll(() => {
    redis.disconnect()
    rmSync(dir, { recursive: true, force: true })
  })

  /** Parked sagas made by a real runner under a fresh key prefix; `unblock(id)` lets its notify step succeed. */
  async function parked(...sagaIds: string[]) {
    const keyPrefix = `t${randomUUID().slice(0, 8)}:`
    const runner = createSagaRunner({ redis, keyPrefix })
    for (const sagaId of sagaIds) {
      const blocker = join(dir, `${keyPrefix}${sagaId}`)
      writeFileSync(blocker, '')
      const outcome = await runner.run(notifyAfterBooking, { bookingId: sagaId, blocker }, { sagaId })
      expect(outcome.state).toBe('parked')
    }
    await runner.close()
    const saga = (...args: string[]) => env.cli(['saga', ...args, '--key-prefix', keyPrefix])
    return { saga, unblock: (sagaId: string) => rmSync(join(dir, `${keyPrefix}${sagaId}`)) }
  }

  it('lists the sagas waiting for an operator, by state', async () => {
    const { saga } = await parked('bk-1', 'bk-2')
    expect(await saga('list')).toEqual({
      exitCode: 0,
      stdout: 'parked (2): bk-1 bk-2\ncompensation_failed (0):\n',
      stderr: '',
    })
    const run = await saga('list', '--state', 'parked,completed', '--json')
    expect(JSON.parse(run.stdout)).toEqual({
      states: [
        { state: 'parked', sagaIds: ['bk-1', 'bk-2'] },
        { state: 'completed', sagaIds: [] },
      ],
    })
    expect(await saga('list', '--state', 'stuck')).toMatchObject({
      exitCode: 2,
      stderr: expect.stringMatching(/^cachesaga: --state #1: /),
    })
  })

  it('inspects a saga: state, waiting step, error, steps and log', async () => {
    const { saga } = await parked('bk-3')
    const run = await saga('inspect', 'bk-3')
    expect(run.exitCode).toBe(0)
    const lines = run.stdout.trimEnd().split('\n')
    expect(lines.slice(0, 5)).toEqual([
      'bk-3 (notify-after-booking): parked, waiting on notify',
      'error: SAGA_ERR_DOMAIN_REJECTION (MAIL_ERR_ADDRESS_REFUSED): the mail server refused the address',
      'steps:',
      '  commit: completed, 0 failures',
      '  notify: rejected, 0 failures',
    ])
    expect(lines[5]).toBe('log:')
    expect(lines.at(-1)).toMatch(
      /Z saga\.parked notify \(SAGA_ERR_DOMAIN_REJECTION \(MAIL_ERR_ADDRESS_REFUSED\): the mail server refused the address\)$/,
    )

    const { record, log } = JSON.parse((await saga('inspect', 'bk-3', '--json')).stdout)
    expect(record).toMatchObject({
      sagaId: 'bk-3',
      name: 'notify-after-booking',
      state: 'parked',
      parkedStep: 'notify',
      // The codes are fields of the recorded error, never text to parse.
      error: {
        code: 'SAGA_ERR_DOMAIN_REJECTION',
        domainCode: 'MAIL_ERR_ADDRESS_REFUSED',
        step: 'notify',
        message: 'the mail server refused the address',
      },
      steps: {
        commit: { status: 'completed', result: { committed: 'bk-3' } },
        notify: { status: 'rejected' },
      },
    })
    expect(log.map((entry: { event: string }) => entry.event)).toContain('saga.parked')
    expect(await saga('inspect', 'nope')).toMatchObject({
      exitCode: 1,
      stderr: 'cachesaga: no saga "nope"\n',
    })
  })

  it('retries with the definitions of --sagas: exit 1 while it parks again, 0 once it completes', async () => {
    const { saga, unblock } = await parked('bk-4')
    const stillBroken = await saga('retry', 'bk-4', '--actor', 'ann@ops', '--sagas', SAGAS_MODULE)
    expect(stillBroken).toEqual({
      exitCode: 1,
      stdout:
        'bk-4: parked on notify: SAGA_ERR_DOMAIN_REJECTION (MAIL_ERR_ADDRESS_REFUSED): the mail server refused the address\n',
      stderr: '',
    })
    unblock('bk-4')
    const fixed = await saga(
      'retry',
      'bk-4',
      '--actor',
      'ann@ops',
      '--note',
      'mail server fixed',
      '--sagas',
      SAGAS_MODULE,
      '--json',
    )
    expect(fixed.exitCode).toBe(0)
    expect(JSON.parse(fixed.stdout)).toMatchObject({
      sagaId: 'bk-4',
      state: 'completed',
      results: { notify: 'sent' },
    })
    const { log } = JSON.parse((await saga('inspect', 'bk-4', '--json')).stdout)
    expect(log.filter((entry: { event: string }) => entry.event === 'operator.retry')).toEqual([
      expect.objectContaining({ actor: 'ann@ops', step: 'notify' }),
      expect.objectContaining({ actor: 'ann@ops', note: 'mail server fixed' }),
    ])
  })

  it('needs --sagas and --actor to retry, and a module that exports definitions', async () => {
    const { saga } = await parked('bk-5')
    expect(await saga('retry', 'bk-5', '--actor', 'ann')).toMatchObject({
      exitCode: 2,
      stderr: "cachesaga: required option '--sagas <module>' not specified (see --help)\n",
    })
    expect(await saga('retry', 'bk-5', '--actor', '', '--sagas', SAGAS_MODULE)).toMatchObject({
      exitCode: 2,
      stderr: 'cachesaga: --actor: must not be empty\n',
    })
    const notSagas = fileURLToPath(new URL('../errors.ts', import.meta.url))
    expect(await saga('retry', 'bk-5', '--actor', 'ann', '--sagas', notSagas)).toMatchObject({
      exitCode: 2,
      stderr: `cachesaga: --sagas: ${notSagas}: the default export is not an array of saga definitions\n`,
    })
    expect((await saga('list')).stdout).toContain('parked (1): bk-5')
  })

  it('skips the waiting step and drives the saga to its end', async () => {
    const { saga } = await parked('bk-6')
    const run = await saga('skip', 'bk-6', '--step', 'notify', '--actor', 'bob', '--sagas', SAGAS_MODULE)
    expect(run).toEqual({ exitCode: 0, stdout: 'bk-6: completed\n', stderr: '' })
    const { record } = JSON.parse((await saga('inspect', 'bk-6', '--json')).stdout)
    expect(record.steps.notify.status).toBe('skipped')
  })

  it('resolves a saga by hand, and exits 1 when the saga is not waiting for an operator', async () => {
    const { saga } = await parked('bk-7')
    expect(await saga('resolve', 'bk-7', '--actor', 'bob', '--note', 'mailed by hand')).toEqual({
      exitCode: 0,
      stdout: 'bk-7: resolved\n',
      stderr: '',
    })
    const again = await saga('resolve', 'bk-7', '--actor', 'bob', '--json')
    expect(again.exitCode).toBe(1)
    expect(JSON.parse(again.stderr)).toMatchObject({
      error: { code: 'SAGA_ERR_INVALID_STATE', message: expect.stringContaining('is resolved') },
    })
    expect((await saga('list', '--state', 'resolved')).stdout).toBe('resolved (1): bk-7\n')
  })

  it('drives a saga with invalidation steps only with the cache of --namespace', async () => {
    const ns = namespace()
    const cache = createCache({ namespace: ns, redis: env.url })
    const keyPrefix = `t${randomUUID().slice(0, 8)}:`
    const blocker = join(dir, `${keyPrefix}bk-8`)
    writeFileSync(blocker, '')
    try {
      const runner = createSagaRunner({ redis, keyPrefix, cache })
      const outcome = await runner.run(
        notifyAfterInvalidation,
        { bookingId: 'bk-8', blocker },
        { sagaId: 'bk-8' },
      )
      expect(outcome).toMatchObject({ state: 'parked', parkedStep: 'notify' })
      rmSync(blocker)
      const sagas = fileURLToPath(new URL('../test-support/invalidating-saga.ts', import.meta.url))
      const retry = ['saga', 'retry', 'bk-8', '--actor', 'ann', '--sagas', sagas, '--key-prefix', keyPrefix]
      expect(await env.cli(retry)).toMatchObject({
        exitCode: 2,
        stderr:
          'cachesaga: --namespace: saga "notify-after-invalidation" invalidates the cache: pass --namespace of its cache\n',
      })
      expect(await env.cli([...retry, '--namespace', ns])).toEqual({
        exitCode: 0,
        stdout: 'bk-8: completed\n',
        stderr: '',
      })
      await runner.close()
    } finally {
      await cache.close()
    }
  })
})

describe('cachesaga saga --store postgres', () => {
  let server: PostgresServer
  let database: string
  let dir: string
  beforeAll(async () => {
    // PostgreSQL's durable defaults: a runner (retry, skip) refuses a store that can lose sagas.
    server = await startPostgres({ allowExternal: false, durable: true })
    database = (await server.createDatabase('cli_sagas')).url
    await installSagaStore({ database, schema: 'ops_sagas' })
    dir = mkdtempSync(join(tmpdir(), 'cachesaga-cli-'))
  }, 90_000)
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true })
    await server?.stop()
  })

  it('lists, inspects, retries and resolves the sagas of the PostgreSQL store', async () => {
    const store = new PostgresSagaStore({ database, schema: 'ops_sagas' })
    const runner = createSagaRunner({ store })
    for (const sagaId of ['pg-1', 'pg-2']) {
      const blocker = join(dir, sagaId)
      writeFileSync(blocker, '')
      expect((await runner.run(notifyAfterBooking, { bookingId: sagaId, blocker }, { sagaId })).state).toBe(
        'parked',
      )
    }
    await runner.close()
    await store.close()

    const saga = (...args: string[]) =>
      env.cli(['saga', ...args, '--store', 'postgres', '--schema', 'ops_sagas'], {
        env: { DATABASE_URL: database },
      })
    expect(await saga('list')).toEqual({
      exitCode: 0,
      stdout: 'parked (2): pg-1 pg-2\ncompensation_failed (0):\n',
      stderr: '',
    })
    expect((await saga('inspect', 'pg-1')).stdout).toMatch(
      /^pg-1 \(notify-after-booking\): parked, waiting on notify\n/,
    )
    rmSync(join(dir, 'pg-1'))
    expect(await saga('retry', 'pg-1', '--actor', 'ann', '--sagas', SAGAS_MODULE)).toEqual({
      exitCode: 0,
      stdout: 'pg-1: completed\n',
      stderr: '',
    })
    // --database wins over DATABASE_URL.
    const resolved = await env.cli(
      ['saga', 'resolve', 'pg-2', '--actor', 'bob', '--store', 'postgres', '--schema', 'ops_sagas'],
      { env: { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/nowhere' } },
    )
    expect(resolved.exitCode).toBe(1)
    expect(
      await env.cli(
        ['saga', 'resolve', 'pg-2', '--actor', 'bob', '--store', 'postgres'].concat([
          '--schema',
          'ops_sagas',
          '--database',
          database,
        ]),
      ),
    ).toEqual({ exitCode: 0, stdout: 'pg-2: resolved\n', stderr: '' })
    expect((await saga('list', '--state', 'completed,resolved')).stdout).toBe(
      'completed (1): pg-1\nresolved (1): pg-2\n',
    )
  })

  it('needs a postgres:// database, from --database or DATABASE_URL, and a plain schema name', async () => {
    expect(await env.cli(['saga', 'list', '--store', 'postgres'])).toEqual({
      exitCode: 2,
      stdout: '',
      stderr:
        'cachesaga: --database: no database given for --store postgres; pass --database <url> or set DATABASE_URL\n',
    })
    expect(
      await env.cli(['saga', 'list', '--store', 'postgres'], { env: { DATABASE_URL: 'redis://127.0.0.1' } }),
    ).toMatchObject({ exitCode: 2, stderr: 'cachesaga: DATABASE_URL: expected a postgres:// URL\n' })
    expect(
      await env.cli(['saga', 'list', '--store', 'postgres', '--database', database, '--schema', 'Ops']),
    ).toMatchObject({
      exitCode: 2,
      stderr: 'cachesaga: --schema: expected lowercase letters, digits and underscores\n',
    })
    expect(await env.cli(['saga', 'list', '--store', 'mysql'])).toMatchObject({ exitCode: 2 })
  })

  it('says when the schema has no saga store, and when the database cannot be reached', async () => {
    const missing = await env.cli(['saga', 'list', '--store', 'postgres', '--database', database, '--json'])
    expect(missing.exitCode).toBe(1)
    expect(JSON.parse(missing.stderr)).toMatchObject({ error: { code: 'PG_ERR_NOT_INSTALLED' } })
    const gone = await env.cli([
      'saga',
      'list',
      '--store',
      'postgres',
      '--database',
      'postgres://ops:s3cret@127.0.0.1:1/db',
      '--json',
    ])
    expect(gone.exitCode).toBe(1)
    expect(JSON.parse(gone.stderr)).toMatchObject({
      error: {
        code: 'PG_ERR_UNREACHABLE',
        message: expect.stringContaining('postgres://ops:***@127.0.0.1:1/db'),
      },
    })
  })
})
