import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RedisServer, startRedis } from '../index.js'

const PASSWORD = 'p@ss:w/rd #1'

describe('startRedis with ACL users', () => {
  let server: RedisServer
  const clients: Redis[] = []

  /** A client of `url` that gives up at once, so a refusal shows as a rejected command. */
  function connect(url: string): Redis {
    const client = new Redis(url, { maxRetriesPerRequest: 0, enableReadyCheck: false })
    client.on('error', () => {})
    clients.push(client)
    return client
  }

  beforeAll(async () => {
    server = await startRedis({
      password: PASSWORD,
      users: [
        {
          name: 'cache-tenant-a',
          password: 'a secret',
          rules: ['~cs:{a}:*', '&cs:{a}:*', '+@read', '+@write', '+@pubsub', '+@connection', '-@dangerous'],
        },
      ],
    })
  })
  afterAll(async () => {
    for (const client of clients) client.disconnect()
    await server.stop()
  })

  it('asks a password of the default user, which url carries', async () => {
    expect(server.owned).toBe(true)
    await expect(connect(`redis://${server.host}:${server.port}`).get('x')).rejects.toThrow(/NOAUTH/)
    expect(server.url).toBe(server.urlFor('default'))
    expect(await connect(server.url).set('cs:{b}:k', 'b')).toBe('OK')
  })

  it('lets a user reach the keys and channels of its patterns', async () => {
    const tenant = connect(server.urlFor('cache-tenant-a'))
    expect(await tenant.set('cs:{a}:booking:1', '09:00')).toBe('OK')
    expect(await tenant.get('cs:{a}:booking:1')).toBe('09:00')
    expect(await tenant.publish('cs:{a}:bus', 'hello')).toBe(0)
  })

  it("denies a user another tenant's keys and channels, and commands outside its rules", async () => {
    const tenant = connect(server.urlFor('cache-tenant-a'))
    await expect(tenant.get('cs:{b}:k')).rejects.toThrow(/NOPERM/)
    await expect(tenant.del('cs:{b}:k')).rejects.toThrow(/NOPERM/)
    await expect(tenant.publish('cs:{b}:bus', 'hello')).rejects.toThrow(/NOPERM/)
    await expect(tenant.flushall()).rejects.toThrow(/NOPERM/)
    await expect(tenant.config('GET', 'appendonly')).rejects.toThrow(/NOPERM/)
    expect(await connect(server.url).get('cs:{b}:k')).toBe('b')
  })

  it('refuses a wrong password', async () => {
    const url = server.urlFor('cache-tenant-a').replace('a%20secret', 'guess')
    await expect(connect(url).get('cs:{a}:k')).rejects.toThrow(/WRONGPASS/)
  })

  it('keeps its fault controls working whatever the users may do, since it logs in as its own admin', async () => {
    const subscriber = connect(server.urlFor('cache-tenant-a'))
    await subscriber.subscribe('cs:{a}:bus')
    expect(await server.killPubSubClients()).toBe(1)
    const snapshot = await server.snapshot()
    server.pause()
    server.resume()
    await server.restart({ from: snapshot })
    expect(await connect(server.urlFor('cache-tenant-a')).get('cs:{a}:booking:1')).toBe('09:00')
  })

  it('creates a user on a running server that restarts keep, and refuses a second one of the same name', async () => {
    const worker = { name: 'worker', password: 'w', rules: ['~bull:*', '+@all', '-@dangerous'] }
    await server.createUser(worker)
    expect(await connect(server.urlFor('worker')).set('bull:q:1', 'job')).toBe('OK')
    await expect(connect(server.urlFor('worker')).get('cs:{a}:booking:1')).rejects.toThrow(/NOPERM/)

    await server.restart()
    expect(await connect(server.urlFor('worker')).ping()).toBe('PONG')
    await expect(server.createUser(worker)).rejects.toMatchObject({ code: 'TESTKIT_ERR_INVALID_INPUT' })
  })

  it('names the users it knows when asked for a URL of another', () => {
    expect(() => server.urlFor('nobody')).toThrow(
      /no user nobody on this server \(users: default, cache-tenant-a/,
    )
  })
})

describe('startRedis ACL options', () => {
  it('rejects the names the harness keeps for itself, naming the field', async () => {
    const attempt = startRedis({ users: [{ name: 'testkit-admin', password: 'x', rules: [] }] })
    await expect(attempt).rejects.toMatchObject({ code: 'TESTKIT_ERR_INVALID_INPUT' })
    await expect(attempt).rejects.toThrow(/startRedis\.options\.users\.0\.name/)
  })

  it('fails with the server output when Redis rejects a rule', async () => {
    const attempt = startRedis({ users: [{ name: 'odd', password: 'x', rules: ['+no-such-command'] }] })
    await expect(attempt).rejects.toMatchObject({ code: 'TESTKIT_ERR_SERVER_START' })
    await expect(attempt).rejects.toThrow(/no-such-command/)
  })

  it('starts a private server for users even when REDIS_URL is set, and refuses to be told otherwise', async () => {
    const previous = process.env.REDIS_URL
    process.env.REDIS_URL = 'redis://127.0.0.1:6379'
    try {
      const users = [{ name: 'u', password: 'x', rules: ['+ping'] }]
      await expect(startRedis({ users, allowExternal: true })).rejects.toThrow(/allowExternal/)
      const server = await startRedis({ users })
      try {
        expect(server.owned).toBe(true)
        expect(server.port).not.toBe(6379)
      } finally {
        await server.stop()
      }
    } finally {
      if (previous === undefined) delete process.env.REDIS_URL
      else process.env.REDIS_URL = previous
    }
  })
})
