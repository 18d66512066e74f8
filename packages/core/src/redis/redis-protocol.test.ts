import { type RedisServer, startRedis } from '@cachesaga/testkit'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { freshNamespace } from '../test-support/namespaces.js'
import { L2Connection } from './connection.js'
import { decodeEntry, encodeEntry } from './entry-format.js'
import { RedisProtocol } from './redis-protocol.js'

let server: RedisServer
let admin: Redis
let connection: L2Connection
let protocol: RedisProtocol
let P: string

beforeAll(async () => {
  server = await startRedis()
  admin = new Redis(server.url)
  const hooks = { onCircuitChange: () => {}, onClientError: () => {}, onReady: async () => {} }
  connection = new L2Connection(
    server.url,
    { timeoutMs: 2_000, breaker: { failures: 5, openFor: 1_000 } },
    hooks,
  )
})
afterAll(async () => {
  await connection.close()
  admin.disconnect()
  await server.stop()
})
beforeEach(() => {
  const namespace = freshNamespace('protocol')
  P = `cs:{${namespace}}`
  protocol = new RedisProtocol(connection, namespace, undefined)
})

/** Calls of `command` since the last `CONFIG RESETSTAT`. */
async function calls(command: string): Promise<number> {
  const stats = await admin.info('commandstats')
  return Number(new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(stats)?.[1] ?? 0)
}

const write = (data = '"v"') => ({
  data,
  expiresAt: Date.now() + 60_000,
  graceEnd: Date.now() + 120_000,
  createdAt: Date.now(),
})

describe('the entry format', () => {
  it('keeps dependencies with separators, digits and newlines intact', () => {
    const recorded = {
      namespaceGeneration: '77',
      dependencies: [
        { dependency: 't:a|1|b', version: '1' },
        { dependency: 't:42', version: '2' },
        { dependency: 't:é\n:', version: '3' },
      ],
    }
    const times = { expiresAt: 3, graceEnd: 4, createdAt: 1 }
    expect(decodeEntry(encodeEntry(recorded, times, '{"a":"\\u0000"}'))).toEqual({
      ...times,
      data: '{"a":"\\u0000"}',
      recorded,
    })
    expect(decodeEntry('1\0old format')).toBeUndefined()
  })
})

describe('reads', () => {
  it('a read of a key whose counters do not exist yet takes no fence; capturing creates them', async () => {
    const read = await protocol.read('k', ['t:staff:7'], Date.now())
    expect(read).toEqual({ status: 'miss', entry: undefined, fence: undefined })
    const fence = await protocol.captureFence('k', ['t:staff:7'])
    expect(fence.dependencies).toEqual([{ dependency: 't:staff:7', version: fence.namespaceGeneration }])
    expect((await protocol.read('k', ['t:staff:7'], Date.now())).fence).toEqual(fence)
  })

  it('a fill lands under its fence and reads back fresh, from the same MGET as the fence', async () => {
    const fence = await protocol.captureFence('k', ['t:staff:7'])
    expect(await protocol.fill('k', write(), fence)).toBe(true)
    const read = await protocol.read('k', ['t:staff:7'], Date.now())
    expect(read.status).toBe('fresh')
    expect(read.entry?.data).toBe('"v"')
    expect(read.fence).toEqual(fence)
  })

  it('an entry whose dependencies the reader did not name is checked with a second MGET', async () => {
    await protocol.fill('k', write(), await protocol.captureFence('k', ['t:staff:7', 's:tenant:a']))
    expect((await protocol.read('k', undefined, Date.now())).status).toBe('fresh')
    expect((await protocol.read('k', ['t:other'], Date.now())).status).toBe('fresh')
    await admin.incr(`${P}:g:s:tenant:a`)
    expect((await protocol.read('k', undefined, Date.now())).status).toBe('invalidated')
    expect((await protocol.read('k', ['t:staff:7'], Date.now())).status).toBe('invalidated')
  })

  it('an entry whose recorded counter moved or vanished, or of another format, reads as invalidated', async () => {
    await protocol.fill('k', write(), await protocol.captureFence('k', ['t:staff:7']))
    await admin.del(`${P}:g:t:staff:7`) // as if evicted
    expect((await protocol.read('k', ['t:staff:7'], Date.now())).status).toBe('invalidated')
    await protocol.fill('k', write(), await protocol.captureFence('k', []))
    await admin.incr(`${P}:g:n`)
    expect((await protocol.read('k', [], Date.now())).status).toBe('invalidated')
    await admin.set(`${P}:e:k`, '1\0an entry of an older format')
    expect((await protocol.read('k', [], Date.now())).status).toBe('invalidated')
  })

  it('past its TTL an entry is stale until its grace ends', async () => {
    const now = Date.now()
    const times = { data: '"v"', createdAt: now, expiresAt: now + 100, graceEnd: now + 60_000 }
    await protocol.fill('k', times, await protocol.captureFence('k', []))
    expect((await protocol.read('k', [], now + 50)).status).toBe('fresh')
    expect((await protocol.read('k', [], now + 150)).status).toBe('stale')
    expect((await protocol.read('k', [], now + 60_000)).status).toBe('miss')
  })

  it('readMany checks each key as read would, in one MGET', async () => {
    await protocol.fill('a', write('"a"'), await protocol.captureFence('a', ['t:x']))
    await protocol.fill('b', write('"b"'), await protocol.captureFence('b', ['t:y']))
    await admin.incr(`${P}:g:t:y`)
    const reads = await protocol.readMany(['a', 'b', 'c'], [['t:x'], ['t:y'], ['t:x']], Date.now())
    expect(reads.map((read) => read.status)).toEqual(['fresh', 'invalidated', 'miss'])
    expect(reads[0]!.entry?.data).toBe('"a"')
    expect(reads[0]!.fence?.dependencies).toEqual([{ dependency: 't:x', version: expect.any(String) }])
    // No key of c's bucket was ever captured: its key generation does not exist yet.
    expect(reads[2]!.fence).toBeUndefined()
  })

  it('reads asked for in the same turn go out as one MGET, each judged as its own read would be', async () => {
    await protocol.fill('a', write('"a"'), await protocol.captureFence('a', ['t:x']))
    await protocol.fill('b', write('"b"'), await protocol.captureFence('b', ['t:y']))
    await protocol.fill('d', write('"d"'), await protocol.captureFence('d', []))
    await admin.incr(`${P}:g:t:y`)
    await admin.config('RESETSTAT')
    const now = Date.now()
    const reads = await Promise.all([
      protocol.read('a', ['t:x'], now),
      protocol.read('b', ['t:y'], now),
      protocol.read('c', ['t:x'], now),
      protocol.read('d', undefined, now),
      protocol.read('a', ['t:x'], now + 120_000),
    ])
    expect(reads.map((read) => read.status)).toEqual(['fresh', 'invalidated', 'miss', 'fresh', 'miss'])
    expect(reads[0]!.entry?.data).toBe('"a"')
    expect(reads[0]!.fence?.dependencies).toEqual([{ dependency: 't:x', version: expect.any(String) }])
    expect(reads[4]!.fence).toEqual(reads[0]!.fence)
    expect(reads[3]!.entry?.data).toBe('"d"')
    expect(reads[3]!.fence).toBeUndefined()
    expect(await calls('mget')).toBe(1)
  })

  it('splits a batch of more than 128 reads into MGETs of at most 128', async () => {
    await protocol.fill('k', write(), await protocol.captureFence('k', ['t:x']))
    await admin.config('RESETSTAT')
    const reads = await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        protocol.read(i % 2 === 0 ? 'k' : `other:${i}`, ['t:x'], Date.now()),
      ),
    )
    expect(reads.filter((read) => read.status === 'fresh')).toHaveLength(150)
    expect(reads.filter((read) => read.status === 'miss')).toHaveLength(150)
    expect(await calls('mget')).toBe(3)
  })

  it('a read in a later turn is not held for an earlier batch, and goes out in its own MGET', async () => {
    await protocol.fill('k', write(), await protocol.captureFence('k', []))
    await admin.config('RESETSTAT')
    expect((await protocol.read('k', [], Date.now())).status).toBe('fresh')
    expect((await protocol.read('k', [], Date.now())).status).toBe('fresh')
    expect(await calls('mget')).toBe(2)
  })

  it('when the MGET of a batch fails, every read of the batch fails with its error', async () => {
    const hooks = { onCircuitChange: () => {}, onClientError: () => {}, onReady: async () => {} }
    const nowhere = new L2Connection(
      'redis://127.0.0.1:1',
      { timeoutMs: 200, breaker: { failures: 100, openFor: 1_000 } },
      hooks,
    )
    try {
      const unreachable = new RedisProtocol(nowhere, 'nowhere', undefined)
      const outcomes = await Promise.allSettled([
        unreachable.read('a', ['t:x'], Date.now()),
        unreachable.read('b', undefined, Date.now()),
        unreachable.read('c', [], Date.now()),
      ])
      expect(outcomes.map((outcome) => outcome.status)).toEqual(['rejected', 'rejected', 'rejected'])
      const reasons = outcomes.map((outcome) => (outcome as PromiseRejectedResult).reason)
      expect(reasons[1]).toBe(reasons[0])
      expect(reasons[2]).toBe(reasons[0])
    } finally {
      await nowhere.close()
    }
  })
})
