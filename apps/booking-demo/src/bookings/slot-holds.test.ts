import { type RedisServer, startRedis } from '@cachesaga/testkit'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { waitFor } from '../demo/api-client.js'
import { SlotHolds } from './slot-holds.js'

let server: RedisServer
let redis: Redis
let holds: SlotHolds
beforeAll(async () => {
  server = await startRedis({ allowExternal: false })
  redis = new Redis(server.url)
  holds = new SlotHolds(redis, 60_000)
})
afterAll(async () => {
  redis?.disconnect()
  await server?.stop()
})

describe('slot holds', () => {
  it('turn away a second saga at the same time, but not the holder retrying its step', async () => {
    expect(await holds.take('ada', '2026-12-07T08:00:00Z', 'saga-1')).toBe(true)
    expect(await holds.take('ada', '2026-12-07T08:00:00.000Z', 'saga-2')).toBe(false)
    expect(await holds.take('ada', '2026-12-07T08:00:00Z', 'saga-1')).toBe(true)
    expect(await holds.take('grace', '2026-12-07T08:00:00Z', 'saga-2')).toBe(true)
  })

  it('are released only by their holder', async () => {
    await holds.take('ada', '2026-12-07T09:00:00Z', 'saga-1')
    await holds.release('ada', '2026-12-07T09:00:00Z', 'saga-2')
    expect(await holds.take('ada', '2026-12-07T09:00:00Z', 'saga-2')).toBe(false)
    await holds.release('ada', '2026-12-07T09:00:00Z', 'saga-1')
    expect(await holds.take('ada', '2026-12-07T09:00:00Z', 'saga-2')).toBe(true)
  })

  it('expire on their own when the saga holding them dies', async () => {
    const short = new SlotHolds(redis, 50)
    await short.take('ada', '2026-12-07T10:00:00Z', 'dead-saga')
    await waitFor(() => short.take('ada', '2026-12-07T10:00:00Z', 'saga-3'), 5_000)
  })
})
