import { type RedisServer, startRedis } from '@cachesaga/testkit'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { freshNamespace } from '../test-support/namespaces.js'
import { decodeEntry, encodeStamp } from '../tiers/entry-format.js'
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
/** A bare entry string on a hit that needs no versions, else [status, entry or null, ...versions]. */
type ReadReply = string | [number, string | null, ...string[]]

/** The [status, entry, ...versions] form of a reply. */
async function readFull(
  counters: string[],
  now = NOW,
  fraction = '0',
): Promise<[number, string | null, ...string[]]> {
  const reply = await read(counters, now, fraction)
  if (typeof reply === 'string') throw new Error(`expected [status, entry, ...versions], got the bare entry`)
  return reply
}
const versionsOf = (reply: [number, string | null, ...string[]]) => reply.slice(2) as string[]

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
    const reply = await readFull(counters())
    expect(reply[0]).toBe(0)
    expect(reply[1]).toBeNull()
    expect(versionsOf(reply)).toEqual(['5000', '5000', '5000', '5000'])
    expect(await redis.pttl(`${P}:g:k:k`)).toBeGreaterThan(0)
    expect(await redis.pttl(`${P}:g:t:staff:7`)).toBe(-1)
  })

  it('answers a fresh hit with the bare entry: its data, times and dependencies (not the namespace)', async () => {
    const captured = versionsOf(await readFull(counters()))
    expect(await fill('fill', counters(), captured)).toBe(1)
    const hit = await read(counters(), NOW + 50)
    expect(typeof hit).toBe('string')
    expect(decodeEntry(hit as string)).toEqual({
      data: '"v"',
      expiresAt: NOW + 100,
      graceEnd: NOW + 200,
      createdAt: NOW,
      deps: ['t:staff:7'],
      // The stamp a loader-served value computes in Node matches what fill.lua wrote.
      stamp: encodeStamp(['n', 't:staff:7'], captured.slice(2), NOW + 100, NOW + 200, NOW),
    })
  })

  it('keeps tags with separators and digits intact through a fill and a hit', async () => {
    const tricky = [`${P}:g:k:k`, `${P}:g:p`, `${P}:g:n`, `${P}:g:t:a|1|b`, `${P}:g:t:42`, `${P}:g:t:é\n:`]
    expect(await fill('fill', tricky, versionsOf(await readFull(tricky)))).toBe(1)
    expect(decodeEntry((await read([])) as string).deps).toEqual(['t:a|1|b', 't:42', 't:é\n:'])
    await redis.incr(`${P}:g:t:é\n:`)
    expect((await readFull(tricky))[0]).toBe(3)
  })

  it('reads an entry of another type as a miss that the next fill replaces, and deletes one of another format', async () => {
    await redis.hset(`${P}:e:k`, 'd', '"old"')
    expect((await readFull(counters()))[0]).toBe(0)
    expect(await fill('fill', counters(), versionsOf(await readFull(counters())))).toBe(1)
    expect(decodeEntry((await read([])) as string).data).toBe('"v"')

    await redis.set(`${P}:e:k`, '0\0unknown')
    expect((await readFull([]))[0]).toBe(3)
    expect(await redis.exists(`${P}:e:k`)).toBe(0)
  })

  it('returns versions on a fresh hit past the refresh fraction, and past the TTL reports stale', async () => {
    await fill('fill', counters(), versionsOf(await readFull(counters())))
    expect(typeof (await read(counters(), NOW + 79, '0.8'))).toBe('string')
    expect(versionsOf(await readFull(counters(), NOW + 80, '0.8'))).toHaveLength(4)
    expect(versionsOf(await readFull(counters(), NOW + 10, '-1'))).toHaveLength(4)
    const stale = await readFull(counters(), NOW + 150)
    expect(stale[0]).toBe(2)
    expect(decodeEntry(stale[1] as string).data).toBe('"v"')
  })

  it('deletes and reports an entry whose recorded counter moved or vanished', async () => {
    await fill('fill', counters(), versionsOf(await readFull(counters())))
    await redis.incr(`${P}:g:t:staff:7`)
    expect((await readFull(counters()))[0]).toBe(3)
    expect(await redis.exists(`${P}:e:k`)).toBe(0)

    await fill('fill', counters(), versionsOf(await readFull(counters())))
    await redis.del(`${P}:g:n`) // as if evicted
    expect((await readFull([]))[0]).toBe(3)
  })
})

describe('fill.lua', () => {
  it('writes only if every captured version still holds', async () => {
    const captured = versionsOf(await readFull(counters()))
    await redis.incr(`${P}:g:p`)
    expect(await fill('fill', counters(), captured)).toBe(0)
    expect(await redis.exists(`${P}:e:k`)).toBe(0)
  })

  it('rejects a fill whose key generation expired meanwhile', async () => {
    const captured = versionsOf(await readFull(counters()))
    await redis.del(`${P}:g:k:k`)
    expect(await fill('fill', counters(), captured)).toBe(0)
  })

  it('in set mode bumps the key generation, so older captured fills cannot land', async () => {
    const captured = versionsOf(await readFull(counters()))
    await fill('set', counters(), [], '"authoritative"')
    expect(await redis.get(`${P}:g:k:k`)).toBe('5001')
    expect(await fill('fill', counters(), captured, '"older"')).toBe(0)
    expect(decodeEntry((await redis.get(`${P}:e:k`)) as string).data).toBe('"authoritative"')
    expect(await redis.pttl(`${P}:e:k`)).toBeGreaterThan(0)
  })
})

describe('delete.lua and bump.lua', () => {
  it('delete removes entries and bumps their generations, initialising a missing one from the nonce', async () => {
    await fill('fill', counters(), versionsOf(await readFull(counters())))
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
