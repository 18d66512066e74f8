import { type ChildProcess, spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { type Cache, createCache } from '@cachesaga/core'
import { bookingCatalog, Dispatcher } from '@cachesaga/queue'
import { type RedisServer, startRedis } from '@cachesaga/testkit'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { aBookingCreated } from '../support/booking-events.js'
import { effectsKey } from './fixtures/effects.js'

const WORKER_BIN = fileURLToPath(new URL('../../packages/queue/bin/cachesaga-worker.js', import.meta.url))
const HANDLERS = fileURLToPath(new URL('./fixtures/booking-handlers.ts', import.meta.url))

async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

/** Resolves when the worker logs `worker ready` (JSON lines on stderr, which are passed through). */
function ready(worker: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = ''
    worker.stderr?.on('data', (chunk: Buffer) => {
      process.stderr.write(chunk)
      seen += chunk.toString()
      if (seen.includes('"worker ready"')) resolve()
    })
    worker.once('exit', (code) =>
      reject(new Error(`worker exited with ${code} before it was ready:\n${seen}`)),
    )
  })
}

describe('a booking event handled by worker processes invalidates the cache of this process', () => {
  let server: RedisServer
  let redis: Redis
  let cache: Cache
  let dispatcher: Dispatcher<typeof bookingCatalog>
  const workers: ChildProcess[] = []
  const namespace = `xpkg-${randomUUID().slice(0, 8)}`
  const prefix = `xpkg-queues-${randomUUID().slice(0, 8)}`

  beforeAll(async () => {
    // An append-only file too: the worker's saga runner refuses a Redis that can lose sagas silently.
    server = await startRedis({
      args: ['--maxmemory-policy', 'noeviction', '--appendonly', 'yes'],
      allowExternal: false,
    })
    redis = new Redis(server.url)
    cache = createCache({ namespace, redis: server.url })
    await cache.ready()
    dispatcher = new Dispatcher({ redis: server.url, prefix, catalog: bookingCatalog })
    for (let i = 0; i < 2; i++) {
      const worker = spawn(
        process.execPath,
        ['--import', 'tsx', WORKER_BIN, '--handlers', HANDLERS, '--queues', 'booking', '--prefix', prefix],
        {
          env: { ...process.env, REDIS_URL: server.url, CACHE_NAMESPACE: namespace },
          stdio: ['ignore', 'inherit', 'pipe'],
        },
      )
      workers.push(worker)
    }
    // Until a worker says it is ready its signal handlers may not be in place; SIGTERM would just kill it.
    await Promise.all(workers.map(ready))
  })

  afterAll(async () => {
    await Promise.all(
      workers
        .filter((w) => w.exitCode === null && w.signalCode === null)
        .map(async (w) => {
          w.kill('SIGKILL')
          await once(w, 'exit')
        }),
    )
    await dispatcher?.close()
    await cache?.close()
    redis?.disconnect()
    await server?.stop()
  })

  it('runs the saga once per booking, duplicates included, and drops the tagged entry here', async () => {
    let loads = 0
    const load = async () => {
      loads++
      return loads === 1 ? ['09:00', '09:30'] : ['09:30']
    }
    const read = () => cache.getOrSet('availability:ana:2026-11-23', load, { tags: ['staff:ana'] })
    expect(await read()).toEqual(['09:00', '09:30'])
    expect(await read()).toEqual(['09:00', '09:30'])
    expect(loads).toBe(1)

    const event = aBookingCreated('ana')
    await dispatcher.dispatch(event)
    await dispatcher.dispatch(event) // a duplicate delivery of the same event

    // The saga ran in another process; its invalidateCache step reached this process's L1 through the bus.
    await eventually(
      async () => (await cache.get('availability:ana:2026-11-23')) === undefined,
      'the L1 drop',
    )
    expect(await read()).toEqual(['09:30'])
    expect(loads).toBe(2)

    // A redelivery after completion (the queue's deduplication has expired by then) is absorbed by the saga.
    await dispatcher.dispatch(event)
    const other = aBookingCreated('bo')
    await dispatcher.dispatch(other)
    await eventually(
      async () => (await redis.hget(effectsKey(namespace), other.payload.bookingId)) === '1',
      'bo',
    )
    expect(await redis.hgetall(effectsKey(namespace))).toEqual({
      [event.payload.bookingId]: '1',
      [other.payload.bookingId]: '1',
    })
  })

  it('stops the workers cleanly on SIGTERM', async () => {
    const exits = workers.map((w) => once(w, 'exit'))
    for (const worker of workers) worker.kill('SIGTERM')
    const codes = (await Promise.all(exits)).map(([code]) => code)
    expect(codes).toEqual([0, 0])
  })
})
