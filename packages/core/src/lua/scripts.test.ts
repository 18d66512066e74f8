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

const fence = () => [`${P}:g:kb:7`, `${P}:g:p`, `${P}:g:n`, `${P}:g:t:staff:7`]

function capture(counters: string[], nonce = '5000'): Promise<string[]> {
  return redis.csCapture(counters.length, ...counters, nonce) as Promise<string[]>
}

function fill(versions: string[], entry = 'the entry'): Promise<unknown> {
  const keys = [`${P}:e:k`, ...fence()]
  return redis.csFill(keys.length, ...keys, entry, '60000', ...versions)
}

describe('capture.lua', () => {
  it('answers the current versions and creates a missing counter from the nonce, without a TTL', async () => {
    await redis.set(`${P}:g:p`, '41')
    expect(await capture(fence())).toEqual(['5000', '41', '5000', '5000'])
    expect(await redis.mget(fence())).toEqual(['5000', '41', '5000', '5000'])
    expect(await redis.pttl(`${P}:g:kb:7`)).toBe(-1)
    expect(await capture(fence(), '9999')).toEqual(['5000', '41', '5000', '5000'])
  })
})

describe('fill.lua', () => {
  it('writes the entry as given, with its PX, when every captured version still holds', async () => {
    expect(await fill(await capture(fence()))).toBe(1)
    expect(await redis.get(`${P}:e:k`)).toBe('the entry')
    expect(await redis.pttl(`${P}:e:k`)).toBeGreaterThan(59_000)
  })

  it('writes nothing when any counter moved or vanished since the capture', async () => {
    for (const moved of fence()) {
      const captured = await capture(fence())
      await redis.incr(moved)
      expect(await fill(captured)).toBe(0)
      await redis.del(moved)
      expect(await fill(await capture(fence(), '1'))).toBe(1)
      await redis.del(`${P}:e:k`)
      const again = await capture(fence())
      await redis.del(moved)
      expect(await fill(again)).toBe(0)
    }
    expect(await redis.exists(`${P}:e:k`)).toBe(0)
  })
})

describe('set.lua', () => {
  it('bumps the key generation, so a fill captured before it cannot land, and writes the entry', async () => {
    const captured = await capture(fence())
    expect(await redis.csSet(2, `${P}:e:k`, `${P}:g:kb:7`, 'authoritative', '60000', '7000')).toBe(1)
    expect(await redis.get(`${P}:g:kb:7`)).toBe('5001')
    expect(await fill(captured, 'older')).toBe(0)
    expect(await redis.get(`${P}:e:k`)).toBe('authoritative')
    await redis.del(`${P}:g:kb:7`)
    await redis.csSet(2, `${P}:e:k`, `${P}:g:kb:7`, 'again', '60000', '7000')
    expect(await redis.get(`${P}:g:kb:7`)).toBe('7001')
  })
})

describe('delete.lua and bump.lua', () => {
  it('delete removes entries, says which existed, and bumps each key generation once, initialising a missing one from the nonce', async () => {
    await redis.set(`${P}:e:a`, 'x')
    await redis.set(`${P}:g:kb:1`, '41')
    const keys = [`${P}:e:a`, `${P}:e:b`, `${P}:g:kb:1`, `${P}:g:kb:2`]
    expect(await redis.csDelete(keys.length, ...keys, '2', '9000')).toEqual([1, 0])
    expect(await redis.mget(`${P}:g:kb:1`, `${P}:g:kb:2`)).toEqual(['42', '9001'])
    expect(await redis.exists(`${P}:e:a`)).toBe(0)
  })

  it('bump increments counters, says which existed, and a missing counter comes back as nonce + 1, never as an old value', async () => {
    await redis.set(`${P}:g:t:a`, '41')
    expect(await redis.csBump(2, `${P}:g:t:a`, `${P}:g:t:b`, '123456')).toEqual([1, 0])
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

describe('restart-fence.lua', () => {
  const fenceOfRestart = (nonce: string, force = '0') =>
    redis.csRestartFence(2, `${P}:g:n`, `${P}:r`, nonce, force) as Promise<
      [string, string, string, string, string | null, number]
    >

  it("answers the server's run id, role and replication place, and fences the namespace once per run id", async () => {
    const runId = /run_id:(\w+)/.exec(await redis.info('server'))![1]!
    await redis.set(`${P}:g:n`, '41')
    const first = await fenceOfRestart('7000')
    expect(first).toEqual([
      runId,
      'master',
      expect.stringMatching(/^\w+$/),
      expect.stringMatching(/^\d+$/),
      null,
      1,
    ])
    // A fresh value, not an increment: after a rollback an increment could meet a version recorded before it.
    expect(await redis.mget(`${P}:g:n`, `${P}:r`)).toEqual(['7000', runId])
    // Every other instance noticing the same server finds it fenced.
    expect((await fenceOfRestart('8000'))[4]).toBe(runId)
    expect((await fenceOfRestart('8000'))[5]).toBe(0)
    expect(await redis.get(`${P}:g:n`)).toBe('7000')
  })

  it('fences again when the namespace was fenced under another server (a restart, a rollback, a failover)', async () => {
    await redis.set(`${P}:r`, 'the-run-id-of-a-server-before-this-one')
    const [runId, , , , fencedBy, bumped] = await fenceOfRestart('9000')
    expect([fencedBy, bumped]).toEqual(['the-run-id-of-a-server-before-this-one', 1])
    expect(await redis.mget(`${P}:g:n`, `${P}:r`)).toEqual(['9000', runId])
  })

  it('bumps whatever the fence says when forced (the replication offset went backwards)', async () => {
    await fenceOfRestart('1000')
    expect((await fenceOfRestart('2000', '1'))[5]).toBe(1)
    expect(await redis.get(`${P}:g:n`)).toBe('2000')
  })
})
