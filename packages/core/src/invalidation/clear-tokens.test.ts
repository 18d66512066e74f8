import { afterEach, describe, expect, it, vi } from 'vitest'
import { createCache } from '../index.js'
import { useTestRedis } from '../test-support/test-redis.js'
import { ClearTokens } from './clear-tokens.js'

const redis = useTestRedis()

afterEach(() => {
  vi.useRealTimers()
})

describe('clear tokens in Redis', () => {
  it('a token issued by one instance is accepted once by another of the same namespace', async () => {
    const [issuer, user] = await redis.caches(2)
    await user!.getOrSet('k', () => 1)
    const token = await issuer!.requestClearToken()
    expect((await user!.clear({ token })).removed).toBe(1)
    await expect(issuer!.clear({ token })).rejects.toThrow(/unknown token \(wrong, already used or expired\)/)
  })

  it('is not accepted by another tenant or namespace', async () => {
    const [issuer] = await redis.caches(1)
    const other = redis.track(
      createCache({ namespace: redis.namespace, tenant: 'acme', redis: redis.server.url }),
    )
    const token = await issuer!.requestClearToken()
    await expect(other.clear({ token })).rejects.toMatchObject({ code: 'CS_ERR_CLEAR_TOKEN' })
    expect((await issuer!.clear({ token })).ok).toBe(true)
  })

  it('expires after a minute (Redis PX)', async () => {
    const [cache] = await redis.caches(1)
    const token = await cache!.requestClearToken()
    expect(await redis.admin.pttl(`cs:{${redis.namespace}}:ct:${token}`)).toBeGreaterThan(59_000)
  })
})

describe('clear tokens of a memory-only cache', () => {
  it('are single use', async () => {
    const tokens = new ClearTokens(undefined)
    const token = await tokens.issue()
    await expect(tokens.consume(token)).resolves.toBeUndefined()
    await expect(tokens.consume(token)).rejects.toThrow(/unknown token \(wrong, or already used\)/)
  })

  it('expire after a minute', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    const tokens = new ClearTokens(undefined)
    const token = await tokens.issue()
    vi.setSystemTime(Date.now() + 60_001)
    await expect(tokens.consume(token)).rejects.toThrow(/the token expired/)
  })

  it('must be a non-empty string', async () => {
    const tokens = new ClearTokens(undefined)
    for (const bad of [undefined, '', 42])
      await expect(tokens.consume(bad)).rejects.toThrow(/a token .* is required/)
  })
})
