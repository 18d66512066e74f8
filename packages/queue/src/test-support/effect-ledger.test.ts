import { Redis } from 'ioredis'
import { describe, expect, it } from 'vitest'
import { LEDGER_KEYS, recordEffectOnce } from './effect-ledger.js'
import { useRedis } from './use-redis.js'

describe('record-effect-once.lua, the exactly-once effect of the test handlers', () => {
  const env = useRedis()

  it('applies an effect the first time a key is seen and never again, even when raced', async () => {
    const clients = Array.from({ length: 4 }, () => new Redis(env.server.url))
    try {
      const outcomes = await Promise.all(clients.map((client) => recordEffectOnce(client, 'event-1')))
      expect(outcomes.filter(Boolean)).toHaveLength(1)
      expect(await recordEffectOnce(env.redis, 'event-2')).toBe(true)
      expect(await env.redis.hgetall(LEDGER_KEYS.perKey)).toEqual({ 'event-1': '1', 'event-2': '1' })
      expect(await env.redis.get(LEDGER_KEYS.total)).toBe('2')
    } finally {
      for (const client of clients) client.disconnect()
    }
  })
})
