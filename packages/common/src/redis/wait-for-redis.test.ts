import {
  getFreePort,
  type RedisCluster,
  type RedisServer,
  startRedis,
  startRedisCluster,
} from '@cachesaga/testkit'
import { Cluster, Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CachesagaError } from '../errors/cachesaga-error.js'
import { describeRedis } from './describe-redis.js'
import { openRedis } from './open-redis.js'
import type { RedisConnection } from './redis-connection.js'
import { closeRedis, RedisUnreachableError, waitForRedis } from './wait-for-redis.js'

const profile = { commandTimeoutMs: 200, maxRetriesPerRequest: 1 }

async function unreachable(connection: RedisConnection, timeoutMs = 400): Promise<RedisUnreachableError> {
  const client = openRedis(connection, profile)
  client.on('error', () => {})
  const started = Date.now()
  try {
    await waitForRedis(client, { timeoutMs, target: describeRedis(connection) })
    throw new Error('expected Redis to be unreachable')
  } catch (error) {
    expect(Date.now() - started).toBeLessThan(timeoutMs + 1_000)
    expect(error).toBeInstanceOf(RedisUnreachableError)
    return error as RedisUnreachableError
  } finally {
    client.disconnect()
  }
}

describe('waitForRedis', () => {
  let plain: RedisServer
  let guarded: RedisServer

  beforeAll(async () => {
    plain = await startRedis({ allowExternal: false })
    guarded = await startRedis({ allowExternal: false })
    const admin = new Redis(guarded.url)
    await admin.config('SET', 'requirepass', 's3cret')
    admin.disconnect()
  })

  afterAll(async () => {
    await plain.stop()
    await guarded.stop()
  })

  it('resolves once a client of every connection shape is ready', async () => {
    const url = `redis://127.0.0.1:${plain.port}`
    const handed = new Redis(url)
    for (const connection of [url, handed, { host: '127.0.0.1', port: plain.port }] as RedisConnection[]) {
      const client = openRedis(connection, profile)
      await waitForRedis(client, { timeoutMs: 5_000, target: describeRedis(connection) })
      expect(await client.ping()).toBe('PONG')
      expect(client).not.toBe(handed)
      await closeRedis(client, 1_000)
    }
    // The caller's client was duplicated, never closed.
    expect(await handed.ping()).toBe('PONG')
    handed.disconnect()
  })

  it('rejects with a coded error naming the address and ECONNREFUSED when nothing listens', async () => {
    const port = await getFreePort()
    const error = await unreachable(`redis://:s3cret@127.0.0.1:${port}/0`)
    expect(error).toBeInstanceOf(CachesagaError)
    expect(error.code).toBe('CS_ERR_REDIS_UNREACHABLE')
    expect(error.details).toEqual({ target: `redis://:***@127.0.0.1:${port}/0`, timeoutMs: 400 })
    expect(error.message).toContain('ECONNREFUSED')
    expect(error.message).not.toContain('s3cret')
  })

  it('fails at once, not at the deadline, for a connection that does not reconnect', async () => {
    const port = await getFreePort()
    const client = openRedis(`redis://127.0.0.1:${port}`, { ...profile, reconnect: false, lazyConnect: true })
    client.on('error', () => {})
    const started = Date.now()
    const error = await waitForRedis(client, { timeoutMs: 10_000, target: 'here' }).catch((e: unknown) => e)
    expect(error).toMatchObject({
      code: 'CS_ERR_REDIS_UNREACHABLE',
      message: expect.stringContaining('ECONNREFUSED'),
    })
    expect(Date.now() - started).toBeLessThan(5_000)
    client.disconnect()
  })

  it('says WRONGPASS for a wrong password and NOAUTH for none, without echoing the password', async () => {
    const wrong = await unreachable(`redis://:nope-nope@127.0.0.1:${guarded.port}`)
    expect(wrong.message).toMatch(/WRONGPASS/)
    expect(wrong.message).not.toContain('nope-nope')
    const none = await unreachable({ host: '127.0.0.1', port: guarded.port }, 1_500)
    expect(none.message).toMatch(/NOAUTH/)
  })

  it('gives a paused server a command timeout instead of a hang', async () => {
    const client = openRedis(`redis://127.0.0.1:${plain.port}`, profile)
    await waitForRedis(client, { timeoutMs: 5_000, target: 'plain' })
    plain.pause()
    try {
      await expect(client.get('k')).rejects.toThrow(/timed out/i)
    } finally {
      plain.resume()
      client.disconnect()
    }
  })
})

describe('on a Redis Cluster', () => {
  let cluster: RedisCluster

  beforeAll(async () => {
    cluster = await startRedisCluster()
  })

  afterAll(async () => {
    await cluster.stop()
  })

  it('opens from { cluster: nodes } and from a Cluster handed in', async () => {
    const handed = new Cluster([...cluster.nodes])
    for (const connection of [{ cluster: [...cluster.nodes] }, handed] as RedisConnection[]) {
      const client = openRedis(connection, profile)
      expect(client).toBeInstanceOf(Cluster)
      await waitForRedis(client, { timeoutMs: 10_000, target: describeRedis(connection) })
      await client.set('{t}:k', 'v')
      expect(await client.get('{t}:k')).toBe('v')
      await closeRedis(client, 1_000)
    }
    handed.disconnect()
  })
})
