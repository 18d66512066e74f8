import { performance } from 'node:perf_hooks'
import { Redis, type RedisOptions } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { eventually } from './eventually.js'
import { type FaultProxy, getFreePort, type RedisServer, startFaultProxy, startRedis } from './index.js'

describe('startFaultProxy', () => {
  let server: RedisServer
  let proxy: FaultProxy
  const clients: Redis[] = []

  /** A client through the proxy; errors are expected here, so they are collected instead of thrown. */
  function proxiedClient(options: RedisOptions = {}): Redis {
    const client = new Redis(proxy.url, options)
    client.on('error', () => {})
    clients.push(client)
    return client
  }

  beforeAll(async () => {
    server = await startRedis()
    proxy = await startFaultProxy({ target: server })
  })
  afterEach(() => {
    proxy.setLatency(0)
    proxy.blackhole(false)
    for (const client of clients.splice(0)) client.disconnect()
  })
  afterAll(async () => {
    await proxy.close()
    await server.stop()
  })

  it('passes commands through unchanged when no fault is set', async () => {
    const client = proxiedClient()
    await client.set('proxy:plain', 'through')
    expect(await client.get('proxy:plain')).toBe('through')
  })

  describe('latency', () => {
    it('delays a PING round trip by the configured latency in each direction', async () => {
      const client = proxiedClient()
      await client.ping()
      proxy.setLatency(150)
      const started = performance.now()
      expect(await client.ping()).toBe('PONG')
      expect(performance.now() - started).toBeGreaterThanOrEqual(2 * 150)
    })

    it('keeps bytes in order when the latency is lowered mid-stream', async () => {
      const client = proxiedClient()
      await client.del('proxy:order')
      proxy.setLatency(200)
      const slow = [client.incr('proxy:order'), client.incr('proxy:order')]
      proxy.setLatency(0)
      const fast = [client.incr('proxy:order'), client.incr('proxy:order')]
      expect(await Promise.all([...slow, ...fast])).toEqual([1, 2, 3, 4])
    })

    it('rejects a negative latency, naming the argument', () => {
      expect(() => proxy.setLatency(-1)).toThrow(/setLatency\.ms/)
    })
  })

  describe('blackhole', () => {
    it('makes a command time out, and a client that dropped the dead connection recovers once it is removed', async () => {
      // socketTimeout is how a client notices a silent peer and reconnects, as it would on a real partition.
      const client = proxiedClient({ commandTimeout: 200, socketTimeout: 600, maxRetriesPerRequest: 1 })
      expect(await client.ping()).toBe('PONG')
      const droppedConnection = new Promise<void>((resolve) => client.once('close', () => resolve()))

      proxy.blackhole(true)
      await expect(client.ping()).rejects.toThrow(/timed out/i)
      await droppedConnection

      proxy.blackhole(false)
      await eventually('a PING through the healed proxy', async () => (await client.ping()) === 'PONG', {
        timeoutMs: 15_000,
        intervalMs: 50,
      })
    })

    it('leaves a client that kept its connection waiting for lost replies until resetAll', async () => {
      const client = proxiedClient({ commandTimeout: 200, maxRetriesPerRequest: 1 })
      expect(await client.ping()).toBe('PONG')

      proxy.blackhole(true)
      await expect(client.ping()).rejects.toThrow(/timed out/i)
      proxy.blackhole(false)
      // ioredis still expects a reply to the swallowed PING, so the next reply is consumed by it.
      await expect(client.ping()).rejects.toThrow(/timed out/i)

      proxy.resetAll()
      await eventually('a PING after resetAll', async () => (await client.ping()) === 'PONG', {
        timeoutMs: 15_000,
        intervalMs: 50,
      })
    })

    it('accepts new connections but lets nothing through them', async () => {
      proxy.blackhole(true)
      const client = proxiedClient({ enableReadyCheck: false, commandTimeout: 200, maxRetriesPerRequest: 0 })
      const connected = new Promise<void>((resolve) => client.once('connect', () => resolve()))
      await connected
      await expect(client.ping()).rejects.toThrow(/timed out/i)
    })
  })

  describe('resetAll', () => {
    it('makes the client see a connection reset, after which it reconnects', async () => {
      const client = proxiedClient()
      expect(await client.ping()).toBe('PONG')
      const reset = new Promise<NodeJS.ErrnoException>((resolve) => client.once('error', resolve))
      const reconnecting = new Promise<void>((resolve) => client.once('reconnecting', () => resolve()))

      proxy.resetAll()

      expect((await reset).code).toBe('ECONNRESET')
      await reconnecting
      expect(await client.ping()).toBe('PONG')
    })

    it('is also what a client sees when the target refuses the connection', async () => {
      const nowhere = await startFaultProxy({ target: { host: '127.0.0.1', port: await getFreePort() } })
      const client = new Redis(nowhere.url, { retryStrategy: () => null })
      try {
        const error = await new Promise<NodeJS.ErrnoException>((resolve) => client.once('error', resolve))
        expect(error.code).toBe('ECONNRESET')
      } finally {
        client.disconnect()
        await nowhere.close()
      }
    })
  })
})
