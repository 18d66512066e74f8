import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { type Cache, createCache } from '@cachesaga/core'
import {
  bookingCancelled,
  bookingCreated,
  Dispatcher,
  defineCatalog,
  InvalidationQueue,
  QueueAdmin,
  scheduleCacheMaintenance,
} from '@cachesaga/queue'
import { eventually, type RedisServer, startRedis } from '@cachesaga/testkit'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { aBookingCancelled, aBookingCreated } from '../support/booking-events.js'
import { denials, refusal, resetDenials } from './support/acl-log.js'
import { aclRules } from './support/readme-acl.js'

const WORKER_BIN = fileURLToPath(new URL('../../packages/queue/bin/cachesaga-worker.js', import.meta.url))
const HANDLERS = fileURLToPath(new URL('./fixtures/worker-handlers.ts', import.meta.url))
const PREFIX = '{acl}'
const QUEUES = ['booking', 'cache-invalidation', 'cache-maintenance']
const NAMESPACE = 'clinic'

const users = [
  { name: 'queue-worker', rules: aclRules('queue', 'queue-worker', { prefix: PREFIX, queue: QUEUES }) },
  { name: 'queue-producer', rules: aclRules('queue', 'queue-producer', { prefix: PREFIX, queue: QUEUES }) },
  {
    name: 'booking-producer',
    rules: aclRules('queue', 'queue-producer', { prefix: PREFIX, queue: ['booking'] }),
  },
  { name: 'cache-clinic', rules: aclRules('core', 'cache-<namespace>', { namespace: NAMESPACE }) },
].map((user) => ({ ...user, password: `${user.name}-secret` }))

// One attempt, so a failing event is a dead letter at once.
const catalog = defineCatalog([
  bookingCreated.options({ queue: 'booking', jobOptions: { attempts: 1 } }),
  bookingCancelled,
])

describe('cachesaga-worker, a producer and their cache, each on its README user', () => {
  let server: RedisServer
  let worker: ChildProcess
  let stderr = ''
  let cache: Cache
  const closing: Array<() => Promise<unknown>> = []

  beforeAll(async () => {
    server = await startRedis({ args: ['--maxmemory-policy', 'noeviction'], users })
    cache = createCache({ namespace: NAMESPACE, redis: server.urlFor('cache-clinic') })
    closing.push(() => cache.close())
    await cache.ready()
    // The real binary, as a deployment runs it (tsx only loads the TypeScript handlers module).
    worker = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        WORKER_BIN,
        '--handlers',
        HANDLERS,
        '--prefix',
        PREFIX,
        '--queues',
        QUEUES.join(','),
        // The stalled-job check and the lock renewals run several times during the test.
        '--stalled-interval',
        '200',
        '--lock-duration',
        '1000',
      ],
      {
        env: {
          ...process.env,
          REDIS_URL: server.urlFor('queue-worker'),
          CACHE_URL: server.urlFor('cache-clinic'),
          CACHE_NAMESPACE: NAMESPACE,
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    )
    worker.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    await eventually('the worker to log ready', () => stderr.includes('"worker ready"'), {
      timeoutMs: 30_000,
      giveUp: () => (worker.exitCode === null ? undefined : new Error(`worker exited:\n${stderr}`)),
    })
  })

  afterAll(async () => {
    if (worker && worker.exitCode === null && worker.signalCode === null) {
      worker.kill('SIGKILL')
      await once(worker, 'exit')
    }
    await Promise.all(closing.map((close) => close()))
    await server?.stop()
  })

  it('handles events, failed invalidations and scheduled warming, and Redis refuses none of them anything', async () => {
    await resetDenials([server.url])
    const dispatcher = new Dispatcher({ redis: server.urlFor('queue-producer'), prefix: PREFIX, catalog })
    const retries = new InvalidationQueue({ redis: server.urlFor('queue-producer'), prefix: PREFIX })
    const admin = new QueueAdmin({ redis: server.urlFor('queue-producer'), prefix: PREFIX })
    closing.push(
      () => dispatcher.close(),
      () => retries.close(),
      () => admin.close(),
    )
    const slotsOf = (staffId: string) =>
      cache.getOrSet(`slots:${staffId}`, () => ['09:00'], { tags: [`staff:${staffId}`] })
    await slotsOf('ana')
    await slotsOf('bo')

    // An event: its handler invalidates through the worker's cache.
    await dispatcher.dispatch(aBookingCreated('ana'))
    await eventually('the event handled', async () => (await cache.get('slots:ana')) === undefined)
    // A failed invalidation handed to the cache-invalidation queue.
    await retries.schedule({
      id: 'confirm:1:invalidate-cache:forward',
      sagaId: 'confirm:1',
      step: 'invalidate-cache',
      target: { tags: ['staff:bo'] },
      error: { name: 'Error', message: 'Redis was away' },
    })
    await eventually('the invalidation retried', async () => (await cache.get('slots:bo')) === undefined)
    // Warming scheduled on the cache-maintenance queue.
    await scheduleCacheMaintenance({
      redis: server.urlFor('queue-producer'),
      prefix: PREFIX,
      schedules: [{ id: 'warm-services', every: '200ms', job: { task: 'warm', names: ['services'] } }],
    })
    await eventually('the services warmed', async () => (await cache.get('service:haircut')) !== undefined)
    // An event whose handler fails is a dead letter, listed with the producer's rights.
    const failing = await dispatcher.dispatch(aBookingCreated('nobody'))
    const dead = await eventually('the dead letter', async () => {
      const letters = await admin.deadLetters('booking')
      return letters.length > 0 ? letters : undefined
    })
    expect(dead.map(({ jobId, failedReason }) => ({ jobId, failedReason }))).toEqual([
      { jobId: failing.jobId, failedReason: 'no such staff member' },
    ])
    const stats = await admin.stats('booking')
    expect(stats.counts).toMatchObject({ completed: 1, failed: 1 })
    await eventually('the lag recorded', async () => (await admin.stats('booking')).lag.count > 0)

    expect(await denials([server.url])).toEqual([])
    const errors = stderr.split('\n').filter((line) => line.includes('"level":"error"'))
    expect(errors).toEqual([])
  })

  it('refuses a producer the queues outside its line, and the worker every command outside its own', async () => {
    await resetDenials([server.url])
    const bookingOnly = new Dispatcher({ redis: server.urlFor('booking-producer'), prefix: PREFIX, catalog })
    closing.push(() => bookingOnly.close())
    await bookingOnly.dispatch(aBookingCreated('cy'))
    const cancelled = aBookingCancelled('cy')
    await expect(bookingOnly.dispatch(cancelled)).rejects.toMatchObject({
      code: 'CSQ_ERR_ENQUEUE_FAILED',
      message: expect.stringContaining('NOPERM'),
    })
    expect(await denials([server.url])).toContainEqual(
      expect.objectContaining({ user: 'booking-producer', reason: 'key' }),
    )

    const client = new Redis(server.urlFor('queue-worker'), { maxRetriesPerRequest: 1 })
    try {
      const outside: Array<[string, () => Promise<unknown>]> = [
        ['FLUSHALL', () => client.flushall()],
        ['KEYS', () => client.keys('*')],
        ['CONFIG GET', () => client.config('GET', 'maxmemory-policy')],
        ['SCAN', () => client.scan('0')],
        ['SUBSCRIBE', () => client.duplicate().subscribe(`${PREFIX}:booking:events`)],
        [
          'a queue it does not run, even under its prefix',
          () => client.hgetall(`${PREFIX}:cancellation:meta`),
        ],
        ["the cache's keys", () => client.get(`cs:{${NAMESPACE}}:g:n`)],
      ]
      for (const [what, call] of outside) {
        expect(`${what}: ${await refusal(call())}`).toMatch(new RegExp(`^${what}: NOPERM`))
      }
    } finally {
      client.disconnect()
    }
  })

  it('stops cleanly on SIGTERM, still refused nothing', async () => {
    await resetDenials([server.url])
    const exit = once(worker, 'exit')
    worker.kill('SIGTERM')
    expect((await exit)[0]).toBe(0)
    expect(await denials([server.url])).toEqual([])
  })
})
