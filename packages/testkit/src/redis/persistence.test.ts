import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RedisPersistence, type RedisServer, startRedis } from '../index.js'

/** A server of one persistence mode for a describe block, and short ways to write and read it. */
function useServer(persistence?: RedisPersistence) {
  let server: RedisServer
  beforeAll(async () => {
    server = await startRedis({ allowExternal: false, ...(persistence ? { persistence } : {}) })
  })
  afterAll(async () => {
    await server.stop()
  })
  const connected = async <T>(use: (client: Redis) => Promise<T>): Promise<T> => {
    const client = new Redis(server.url, { maxRetriesPerRequest: 0 })
    try {
      return await use(client)
    } finally {
      client.disconnect()
    }
  }
  return {
    get server() {
      return server
    },
    write: (...pairs: string[]) => connected((client) => client.mset(...pairs)),
    read: (...keys: string[]) => connected((client) => client.mget(...keys)),
  }
}

describe("persistence 'none' (the default)", () => {
  const redis = useServer()

  it('comes back empty after a kill, and refuses save() since nothing would survive a restart', async () => {
    await redis.write('none:a', '1')
    await redis.server.kill()
    await redis.server.restart()
    expect(await redis.read('none:a')).toEqual([null])
    await expect(redis.server.save()).rejects.toMatchObject({ code: 'TESTKIT_ERR_INVALID_INPUT' })
  })

  it('comes back from a snapshot when asked, and empty again on the next restart', async () => {
    await redis.write('none:b', '1')
    const snapshot = await redis.server.snapshot()
    await redis.write('none:c', '1')

    await redis.server.restart({ from: snapshot })
    expect(await redis.read('none:b', 'none:c')).toEqual(['1', null])

    await redis.server.restart()
    expect(await redis.read('none:b')).toEqual([null])
  })

  it('rejects a snapshot file that is gone before killing anything', async () => {
    await redis.write('none:d', '1')
    const gone = { file: '/nonexistent/1.rdb', takenAt: new Date() }
    await expect(redis.server.restart({ from: gone })).rejects.toMatchObject({
      code: 'TESTKIT_ERR_INVALID_INPUT',
      message: expect.stringContaining('/nonexistent/1.rdb'),
    })
    expect(await redis.read('none:d')).toEqual(['1'])
  })

  it('rejects an unknown restart source, naming the field', async () => {
    // @ts-expect-error: checking the runtime guard for untyped callers
    await expect(redis.server.restart({ from: 'yesterday' })).rejects.toThrow(/restart\.options\.from/)
  })
})

describe("persistence 'rdb'", () => {
  const redis = useServer('rdb')

  it('comes back after a kill as of the last save()', async () => {
    await redis.write('rdb:a', '1')
    await redis.server.save()
    await redis.write('rdb:b', '1')
    await redis.server.kill()
    await redis.server.restart()
    expect(await redis.read('rdb:a', 'rdb:b')).toEqual(['1', null])
  })

  it('keeps the restart point where save() left it when a snapshot is taken later', async () => {
    await redis.write('rdb:c', '1')
    await redis.server.save()
    await redis.write('rdb:d', '1')
    const snapshot = await redis.server.snapshot()
    await redis.write('rdb:e', '1')

    await redis.server.restart()
    expect(await redis.read('rdb:c', 'rdb:d', 'rdb:e')).toEqual(['1', null, null])

    await redis.server.restart({ from: snapshot })
    expect(await redis.read('rdb:c', 'rdb:d', 'rdb:e')).toEqual(['1', '1', null])
  })

  it('comes back empty when asked, and stays empty: the saved file is gone too', async () => {
    await redis.write('rdb:f', '1')
    await redis.server.save()
    await redis.server.restart({ from: 'empty' })
    expect(await redis.read('rdb:f')).toEqual([null])
    await redis.server.restart()
    expect(await redis.read('rdb:f')).toEqual([null])
  })
})

describe("persistence 'aof'", () => {
  const redis = useServer('aof')

  it('keeps every acknowledged write through a kill, without any save()', async () => {
    await redis.write('aof:a', '1')
    for (let i = 0; i < 3; i++) await redis.write(`aof:b${i}`, String(i))
    await redis.server.kill()
    await redis.server.restart()
    expect(await redis.read('aof:a', 'aof:b0', 'aof:b1', 'aof:b2')).toEqual(['1', '0', '1', '2'])
  })

  it('rolls back to a snapshot, and logs from there on, so a later restart from disk keeps the rollback', async () => {
    await redis.write('aof:version', 'v1')
    const snapshot = await redis.server.snapshot()
    await redis.write('aof:version', 'v2', 'aof:after-snapshot', '1')

    await redis.server.restart({ from: snapshot })
    expect(await redis.read('aof:version', 'aof:after-snapshot')).toEqual(['v1', null])

    await redis.write('aof:after-rollback', '1')
    await redis.server.kill()
    await redis.server.restart()
    expect(await redis.read('aof:version', 'aof:after-snapshot', 'aof:after-rollback')).toEqual([
      'v1',
      null,
      '1',
    ])
  })

  it('comes back empty when asked, and stays empty: the AOF is gone too', async () => {
    await redis.write('aof:c', '1')
    await redis.server.restart({ from: 'empty' })
    expect(await redis.read('aof:c')).toEqual([null])
    await redis.server.restart()
    expect(await redis.read('aof:c')).toEqual([null])
  })
})
