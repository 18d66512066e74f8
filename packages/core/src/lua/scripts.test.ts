import { type RedisServer, startRedis } from '@cachesaga/testkit'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { freshNamespace } from '../test-support/namespaces.js'
import { attachScripts, type ScriptedClient } from './scripts.js'

let server: RedisServer
let redis: ScriptedClient
let P: string

beforeAll(async () => {
  server = await startRedis()
  redis = attachScripts(new Redis(server.url))
})
afterAll(async () => {
  redis.disconnect()
  await server.stop()
})
beforeEach(() => {
  P = `cs:{${freshNamespace('lua')}}`
})

const NOW = 1_000_000
type ReadReply = [number, string | null, string, string, string, string[], string[]]

function read(counters: string[], now = NOW, fraction = '0'): Promise<ReadReply> {
  return redis.csRead(
    1 + counters.length,
    `${P}:e:k`,
    ...counters,
    P,
    String(now),
    '5000',
    '60000',
    fraction,
  ) as Promise<ReadReply>
}

function fill(mode: 'fill' | 'set', counters: string[], versions: string[], data = '"v"'): Promise<unknown> {
  const expiry = [String(NOW + 100), String(NOW + 200), String(NOW)]
  return redis.csFill(
    1 + counters.length,
    `${P}:e:k`,
    ...counters,
    P,
    mode,
    '7000',
    '60000',
    data,
    ...expiry,
    '60000',
    ...versions,
  )
}

const counters = () => [`${P}:g:k:k`, `${P}:g:p`, `${P}:g:n`, `${P}:g:t:staff:7`]

describe('read.lua', () => {
  it('on a miss initialises missing counters with the nonce (the key generation with a TTL) and returns them', async () => {
    const reply = await read(counters())
    expect(reply[0]).toBe(0)
    expect(reply[6]).toEqual(['5000', '5000', '5000', '5000'])
    expect(await redis.pttl(`${P}:g:k:k`)).toBeGreaterThan(0)
    expect(await redis.pttl(`${P}:g:t:staff:7`)).toBe(-1)
  })

  it('answers a fresh hit with its data, times and dependencies (not the namespace)', async () => {
    const captured = (await read(counters()))[6]
    expect(await fill('fill', counters(), captured)).toBe(1)
    const hit = await read(counters(), NOW + 50)
    expect(hit.slice(0, 6)).toEqual([
      1,
      '"v"',
      String(NOW + 100),
      String(NOW + 200),
      String(NOW),
      ['t:staff:7'],
    ])
    expect(hit[6]).toEqual([])
  })

  it('returns versions on a fresh hit past the refresh fraction, and past the TTL reports stale', async () => {
    await fill('fill', counters(), (await read(counters()))[6])
    expect((await read(counters(), NOW + 79, '0.8'))[6]).toEqual([])
    expect((await read(counters(), NOW + 80, '0.8'))[6]).toHaveLength(4)
    expect((await read(counters(), NOW + 10, '-1'))[6]).toHaveLength(4)
    expect((await read(counters(), NOW + 150))[0]).toBe(2)
  })

  it('deletes and reports an entry whose recorded counter moved or vanished', async () => {
    await fill('fill', counters(), (await read(counters()))[6])
    await redis.incr(`${P}:g:t:staff:7`)
    expect((await read(counters()))[0]).toBe(3)
    expect(await redis.exists(`${P}:e:k`)).toBe(0)

    await fill('fill', counters(), (await read(counters()))[6])
    await redis.del(`${P}:g:n`) // as if evicted
    expect((await read([]))[0]).toBe(3)
  })
})

describe('fill.lua', () => {
  it('writes only if every captured version still holds', async () => {
    const captured = (await read(counters()))[6]
    await redis.incr(`${P}:g:p`)
    expect(await fill('fill', counters(), captured)).toBe(0)
    expect(await redis.exists(`${P}:e:k`)).toBe(0)
  })

  it('rejects a fill whose key generation expired meanwhile', async () => {
    const captured = (await read(counters()))[6]
    await redis.del(`${P}:g:k:k`)
    expect(await fill('fill', counters(), captured)).toBe(0)
  })

  it('in set mode bumps the key generation, so older captured fills cannot land', async () => {
    const captured = (await read(counters()))[6]
    await fill('set', counters(), [], '"authoritative"')
    expect(await redis.get(`${P}:g:k:k`)).toBe('5001')
    expect(await fill('fill', counters(), captured, '"older"')).toBe(0)
    expect(await redis.hget(`${P}:e:k`, 'd')).toBe('"authoritative"')
    expect(await redis.pttl(`${P}:e:k`)).toBeGreaterThan(0)
  })
})

describe('delete.lua and bump.lua', () => {
  it('delete removes entries and bumps their generations, initialising a missing one from the nonce', async () => {
    await fill('fill', counters(), (await read(counters()))[6])
    expect(await redis.csDelete(4, `${P}:e:k`, `${P}:g:k:k`, `${P}:e:x`, `${P}:g:k:x`, '9000', '60000')).toBe(
      1,
    )
    expect(await redis.get(`${P}:g:k:k`)).toBe('5001')
    expect(await redis.get(`${P}:g:k:x`)).toBe('9001')
    expect(await redis.exists(`${P}:e:k`)).toBe(0)
  })

  it('bump increments counters, and a missing counter comes back as nonce + 1, never as an old value', async () => {
    await redis.set(`${P}:g:t:a`, '41')
    expect(await redis.csBump(2, `${P}:g:t:a`, `${P}:g:t:b`, '123456')).toBe(2)
    expect(await redis.mget(`${P}:g:t:a`, `${P}:g:t:b`)).toEqual(['42', '123457'])
  })
})

describe('lease scripts', () => {
  it('one owner per generation; a lease fenced on another generation is taken over; release needs the token', async () => {
    const lease = `${P}:l:k`
    expect(await redis.csLeaseAcquire(1, lease, 'a', '7', '60000')).toBe(1)
    expect(await redis.csLeaseAcquire(1, lease, 'b', '7', '60000')).toBe(0)
    expect(await redis.csLeaseAcquire(1, lease, 'b', '8', '60000')).toBe(1)
    expect(await redis.csLeaseRelease(1, lease, 'a')).toBe(0)
    expect(await redis.csLeaseRelease(1, lease, 'b')).toBe(1)
    expect(await redis.exists(lease)).toBe(0)
  })
})
