import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RedisServer, startRedis } from '../index.js'

describe('startRedis', () => {
  let server: RedisServer

  beforeAll(async () => {
    server = await startRedis({ allowExternal: false })
  })
  afterAll(async () => {
    await server.stop()
  })

  it('starts a private server on a port other than 6379', async () => {
    expect(server.port).not.toBe(6379)
    const client = new Redis(server.url)
    try {
      expect(await client.ping()).toBe('PONG')
    } finally {
      client.disconnect()
    }
  })

  it('loses a value written before a kill, since persistence is off', async () => {
    const client = new Redis(server.url, { maxRetriesPerRequest: 1 })
    client.on('error', () => {})
    await client.set('before-kill', '1')
    expect(await client.get('before-kill')).toBe('1')
    client.disconnect()

    await server.kill()
    await server.restart()

    const after = new Redis(server.url)
    try {
      expect(await after.get('before-kill')).toBeNull()
    } finally {
      after.disconnect()
    }
  })

  it('makes a command time out while paused and answer after resume', async () => {
    const client = new Redis(server.url, { commandTimeout: 200, maxRetriesPerRequest: 0 })
    client.on('error', () => {})
    try {
      await client.ping()
      server.pause()
      await expect(client.ping()).rejects.toThrow(/timed out/i)
      server.resume()
      expect(await client.ping()).toBe('PONG')
    } finally {
      server.resume()
      client.disconnect()
    }
  })

  it('kills pub/sub connections on command', async () => {
    const subscriber = new Redis(server.url)
    subscriber.on('error', () => {})
    try {
      await subscriber.subscribe('channel')
      const closed = new Promise<void>((resolve) => subscriber.once('close', () => resolve()))
      expect(await server.killPubSubClients()).toBe(1)
      await closed
    } finally {
      subscriber.disconnect()
    }
  })

  it('fails at once with TESTKIT_ERR_SERVER_START and the server output when redis-server cannot start', async () => {
    const attempt = startRedis({ allowExternal: false, args: ['--no-such-directive', 'yes'] })
    await expect(attempt).rejects.toMatchObject({ code: 'TESTKIT_ERR_SERVER_START' })
    await expect(attempt).rejects.toThrow(/no-such-directive/)
  })

  it('rejects an option of the wrong type, naming it', async () => {
    // @ts-expect-error: checking the runtime guard for untyped callers
    await expect(startRedis({ port: 'six' })).rejects.toThrow(/startRedis\.options\.port/)
  })
})
