import { type RedisCluster, type RedisServer, startRedis, startRedisCluster } from '@cachesaga/testkit'
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { defineSaga } from '../../definition/define-saga.js'
import { DomainRejection } from '../../errors.js'
import type { SagaRunnerOptions } from '../../runtime/runner-options.js'
import { createSagaRunner, type SagaRunner } from '../../runtime/saga-runner.js'
import { freshPrefix, turnOnAppendOnly } from '../../test-support/redis.js'
import { bookingSaga } from '../../testing/booking-saga.js'
import { EffectLedger } from '../../testing/effects.js'
import { persistenceProblems } from './durability.js'

// A runner refuses to drive sagas on a Redis that can lose them silently, says what to set, and can be told to go
// on knowingly. Each case starts its own redis-server with the settings under test.

const runners: SagaRunner[] = []
const servers: Array<RedisServer | RedisCluster> = []
afterEach(async () => {
  await Promise.all(runners.splice(0).map((runner) => runner.close()))
})
afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop()))
})

async function redisWith(...args: string[]): Promise<RedisServer> {
  const server = await startRedis({ allowExternal: false, args })
  servers.push(server)
  return server
}

function runnerOn(redis: SagaRunnerOptions['redis'], options: Partial<SagaRunnerOptions> = {}) {
  const runner = createSagaRunner({ redis, keyPrefix: freshPrefix(), ...options })
  runners.push(runner)
  return runner
}

const book = (runner: SagaRunner, ledger = new EffectLedger()) =>
  runner.run(bookingSaga(ledger), { slot: 'mon-9' }, { sagaId: 'b1' })

describe('persistenceProblems', () => {
  it('accepts AOF synced every second or always, with noeviction or a policy that only evicts keys with a TTL', () => {
    for (const appendfsync of ['everysec', 'always']) {
      for (const maxmemoryPolicy of [
        'noeviction',
        'volatile-lru',
        'volatile-lfu',
        'volatile-ttl',
        'volatile-random',
      ]) {
        expect(persistenceProblems({ appendonly: 'yes', appendfsync, maxmemoryPolicy })).toEqual([])
      }
    }
  })

  it('names every setting that can lose sagas, and what to set instead', () => {
    expect(
      persistenceProblems({ appendonly: 'no', appendfsync: 'everysec', maxmemoryPolicy: 'allkeys-lru' }),
    ).toEqual([
      expect.stringMatching(/^appendonly is "no": set appendonly yes/),
      expect.stringMatching(/^maxmemory-policy is "allkeys-lru": set noeviction, or a volatile-\* policy/),
    ])
    expect(
      persistenceProblems({ appendonly: 'yes', appendfsync: 'no', maxmemoryPolicy: 'noeviction' }),
    ).toEqual([expect.stringMatching(/^appendfsync is "no": set appendfsync everysec or always/)])
  })
})

describe('a runner on a Redis that can lose sagas', () => {
  it('refuses to run one, saying what to set, runs nothing, and runs once the server is fixed', async () => {
    const server = await redisWith()
    const runner = runnerOn(server.url)
    const ledger = new EffectLedger()
    await expect(book(runner, ledger)).rejects.toMatchObject({
      code: 'SAGA_ERR_STORE_NOT_DURABLE',
      message: expect.stringContaining('appendonly is "no": set appendonly yes'),
      details: {
        target: server.url,
        nodes: [{ node: `127.0.0.1:${server.port}`, problems: [expect.any(String)] }],
      },
    })
    expect(await ledger.calls()).toEqual({})

    await turnOnAppendOnly(server)
    expect((await book(runner, ledger)).state).toBe('completed')
  })

  it('refuses an evicting policy and an appendfsync the OS decides, and takes a volatile-* policy', async () => {
    const evicting = await redisWith('--appendonly', 'yes', '--maxmemory-policy', 'allkeys-lru')
    await expect(book(runnerOn(evicting.url))).rejects.toMatchObject({
      code: 'SAGA_ERR_STORE_NOT_DURABLE',
      message: expect.stringContaining('maxmemory-policy is "allkeys-lru"'),
    })
    const unsynced = await redisWith('--appendonly', 'yes', '--appendfsync', 'no')
    await expect(book(runnerOn(unsynced.url))).rejects.toMatchObject({
      message: expect.stringContaining('appendfsync is "no"'),
    })
    const volatile = await redisWith('--appendonly', 'yes', '--maxmemory-policy', 'volatile-lru')
    expect((await book(runnerOn(volatile.url))).state).toBe('completed')
  })

  it('runs knowingly with requireDurableStore: false, and says so in the log once', async () => {
    const server = await redisWith()
    const logged: Array<{ level: string; message: string; fields?: Record<string, unknown> }> = []
    const runner = runnerOn(server.url, {
      requireDurableStore: false,
      log: (level, message, fields) => logged.push({ level, message, ...(fields && { fields }) }),
    })
    const ledger = new EffectLedger()
    expect((await book(runner, ledger)).state).toBe('completed')
    await runner.run(bookingSaga(ledger), { slot: 'tue-9' }, { sagaId: 'b2' })
    await runner.recover()
    expect(logged).toEqual([
      {
        level: 'warn',
        message: expect.stringMatching(
          /^driving sagas anyway \(requireDurableStore: false\): .*appendonly is "no"/,
        ),
        fields: expect.objectContaining({ code: 'SAGA_ERR_STORE_NOT_DURABLE', target: server.url }),
      },
    ])
  })

  it('refuses an operator retry or skip before recording it: the saga stays parked', async () => {
    const server = await redisWith()
    const keyPrefix = freshPrefix()
    const parks = defineSaga('parks', { input: z.object({}) })
      .step('commit', { kind: 'pivot', run: () => 'committed' })
      .step('notify', {
        run: () => {
          throw new DomainRejection('MAIL_ERR_REFUSED', 'the mail server refused the address')
        },
      })
    const knowingly = runnerOn(server.url, { keyPrefix, requireDurableStore: false, log: () => {} })
    expect((await knowingly.run(parks, {}, { sagaId: 'p1' })).state).toBe('parked')

    const strict = runnerOn(server.url, { keyPrefix, sagas: [parks] })
    await expect(strict.operator.retry('p1', { actor: 'ops' })).rejects.toMatchObject({
      code: 'SAGA_ERR_STORE_NOT_DURABLE',
    })
    await expect(strict.operator.skip('p1', { step: 'notify', actor: 'ops' })).rejects.toMatchObject({
      code: 'SAGA_ERR_STORE_NOT_DURABLE',
    })
    const found = await strict.operator.inspect('p1')
    expect(found?.record.state).toBe('parked')
    expect(found?.log.filter(({ event }) => event.startsWith('operator.'))).toEqual([])
  })

  it('lets an operator list and inspect sagas: only driving them is refused', async () => {
    const server = await redisWith()
    const runner = runnerOn(server.url)
    expect(await runner.operator.list('parked')).toEqual([])
    expect(await runner.operator.inspect('nope')).toBeUndefined()
    await expect(runner.recover()).rejects.toMatchObject({ code: 'SAGA_ERR_STORE_NOT_DURABLE' })
  })
})

describe('a runner that may not read the settings', () => {
  it('says CONFIG GET was refused instead of guessing, and can be told to go on', async () => {
    const server = await redisWith('--appendonly', 'yes')
    const admin = new Redis(server.url)
    await admin.call('ACL', 'SETUSER', 'sagas', 'on', '>s3cret', '~*', '&*', '+@all', '-config')
    admin.disconnect()
    const restricted = `redis://sagas:s3cret@127.0.0.1:${server.port}`
    await expect(book(runnerOn(restricted))).rejects.toMatchObject({
      code: 'SAGA_ERR_STORE_DURABILITY_UNKNOWN',
      message: expect.stringMatching(/CONFIG GET was refused \(NOPERM.*\).*Allow CONFIG GET to this user/),
    })
    const knowing = runnerOn(restricted, { requireDurableStore: false, log: () => {} })
    expect((await book(knowing)).state).toBe('completed')
  })
})

describe('a runner on a Redis Cluster', () => {
  let cluster: RedisCluster
  beforeAll(async () => {
    cluster = await startRedisCluster()
    servers.push(cluster)
  }, 90_000)

  it('checks every master, and names the ones that can lose sagas', async () => {
    const runner = runnerOn({ cluster: [...cluster.nodes] })
    const names = cluster.nodes.map(({ host, port }) => `${host}:${port}`)
    const refused = await book(runner).catch((error) => error)
    expect(refused.code).toBe('SAGA_ERR_STORE_NOT_DURABLE')
    expect(refused.details.nodes.map(({ node }: { node: string }) => node).sort()).toEqual([...names].sort())

    for (const node of cluster.nodes.slice(0, 2)) await turnOnAppendOnly(node)
    const stillRefused = await book(runner).catch((error) => error)
    expect(stillRefused.details.nodes).toEqual([
      { node: names[2], problems: [expect.stringMatching(/^appendonly/)] },
    ])
  })
})
