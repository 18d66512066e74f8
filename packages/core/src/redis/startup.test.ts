import { getFreePort, type RedisServer, startRedis } from '@cachesaga/testkit'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Cache, createCache } from '../index.js'
import { freshNamespace } from '../test-support/namespaces.js'

let guarded: RedisServer
const open: Cache[] = []

beforeAll(async () => {
  guarded = await startRedis({ allowExternal: false })
  const admin = new Redis(guarded.url)
  await admin.config('SET', 'requirepass', 's3cret')
  admin.disconnect()
})
afterAll(async () => {
  await Promise.all(open.map((cache) => cache.close()))
  await guarded.stop()
})

function cacheOn(redis: string): Cache {
  const cache = createCache({ namespace: freshNamespace('startup'), redis, l2: { timeout: 100 } })
  cache.on('error', () => {})
  open.push(cache)
  return cache
}

async function readyError(
  cache: Cache,
  timeout: string,
): Promise<Error & { code?: string; details?: unknown }> {
  const started = Date.now()
  const error = await cache.ready({ timeout }).then(
    () => new Error('expected ready() to reject'),
    (rejected: Error) => rejected,
  )
  expect(Date.now() - started).toBeLessThan(2_000)
  return error
}

describe('ready() is bounded and says why', () => {
  it('nothing listening: CS_ERR_REDIS_UNREACHABLE naming the URL without its password, and ECONNREFUSED', async () => {
    const port = await getFreePort()
    const error = await readyError(cacheOn(`redis://:s3cret@127.0.0.1:${port}`), '300ms')
    expect(error.code).toBe('CS_ERR_REDIS_UNREACHABLE')
    expect(error.details).toEqual({ target: `redis://:***@127.0.0.1:${port}`, timeoutMs: 300 })
    expect(error.message).toContain(`redis://:***@127.0.0.1:${port}`)
    expect(error.message).toContain('ECONNREFUSED')
    expect(error.message).not.toContain('s3cret')
  })

  it('a wrong password says WRONGPASS, none says NOAUTH', async () => {
    const wrong = await readyError(cacheOn(`redis://:nope-nope@127.0.0.1:${guarded.port}`), '500ms')
    expect(wrong.code).toBe('CS_ERR_REDIS_UNREACHABLE')
    expect(wrong.message).toMatch(/WRONGPASS/)
    expect(wrong.message).not.toContain('nope-nope')
    const none = await readyError(cacheOn(`redis://127.0.0.1:${guarded.port}`), '1s')
    expect(none.message).toMatch(/NOAUTH/)
  })

  it('meanwhile the cache answers from the loader, within the L2 timeout', async () => {
    const cache = cacheOn(`redis://127.0.0.1:${await getFreePort()}`)
    await readyError(cache, '200ms')
    const started = Date.now()
    expect(await cache.getOrSet('k', () => 'from the loader')).toBe('from the loader')
    expect(Date.now() - started).toBeLessThan(1_500)
  })
})

describe('which Redis, or none', () => {
  it('redis: undefined is an error that says so (an unset REDIS_URL is not a memory-only cache)', () => {
    const attempt = () =>
      createCache({ namespace: 'n', redis: process.env.CACHESAGA_UNSET_FOR_THIS_TEST as never })
    expect(attempt).toThrow(
      /^redis: required, got undefined \(is the variable it is read from, such as REDIS_URL, set\?\)/,
    )
    try {
      attempt()
    } catch (error) {
      expect(error).toMatchObject({ code: 'CS_ERR_INVALID_OPTION', details: { field: 'redis' } })
    }
  })

  it('redis: false is a memory-only cache, ready at once', async () => {
    const cache = createCache({ namespace: 'memory', redis: false })
    await cache.ready()
    expect(await cache.getOrSet('k', () => 1)).toBe(1)
    expect(await cache.getOrSet('k', () => 2)).toBe(1)
    await cache.close()
  })
})
