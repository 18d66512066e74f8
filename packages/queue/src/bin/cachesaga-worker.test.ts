import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type RedisServer, startRedis, startRedisCluster } from '@cachesaga/testkit'
import { Queue } from 'bullmq'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  CACHE_MAINTENANCE_QUEUE,
  DEFAULT_QUEUE_PREFIX,
  type DispatchEvent,
  Dispatcher,
  type DomainEvent,
  InvalidationQueue,
  scheduleCacheMaintenance,
} from '../index.js'
import { appCatalog, aRoomCleanedV1, oldProducerCatalog } from '../test-support/app-events.js'
import { LEDGER_KEYS } from '../test-support/effect-ledger.js'
import { aBookingCreated, oneOfEach } from '../test-support/events.js'
import { eventually } from '../test-support/eventually.js'
import {
  COUNTING_HANDLERS,
  PACKAGE_ROOT,
  spawnWorker,
  type WorkerProcess,
} from '../test-support/worker-process.js'

// Short locks so a SIGKILLed worker's job is recovered in about a second rather than ~15 s.
const FAST_STALL_FLAGS = ['--lock-duration', '2000', '--stalled-interval', '500', '--concurrency', '16']

describe('cachesaga-worker processes', () => {
  let server: RedisServer
  let redis: Redis
  let dispatcher: Dispatcher<typeof appCatalog>
  let bookingQueue: Queue
  const workers: WorkerProcess[] = []

  const start = (args: string[] = FAST_STALL_FLAGS): WorkerProcess => {
    const worker = spawnWorker(server.url, args)
    workers.push(worker)
    return worker
  }
  const effectsOf = async (eventId: string) => Number((await redis.hget(LEDGER_KEYS.perKey, eventId)) ?? 0)
  const deliveriesOf = async (eventId: string) =>
    Number((await redis.hget(LEDGER_KEYS.deliveries, eventId)) ?? 0)
  const stateOf = (jobId: string) => bookingQueue.getJobState(jobId)

  beforeAll(async () => {
    // A private server: the ledger keys of the counting handlers are fixed names.
    server = await startRedis({ args: ['--maxmemory-policy', 'noeviction'], allowExternal: false })
    redis = new Redis(server.url)
    dispatcher = new Dispatcher({ redis: server.url, catalog: appCatalog })
    bookingQueue = new Queue('booking', { connection: redis, prefix: DEFAULT_QUEUE_PREFIX })
  })

  afterAll(async () => {
    for (const worker of workers) worker.child.kill('SIGKILL')
    await Promise.all(workers.map((worker) => worker.exited))
    await bookingQueue.close()
    await dispatcher.close()
    redis.disconnect()
    await server.stop()
  })

  describe('two workers sharing the queues', () => {
    let first: WorkerProcess
    let second: WorkerProcess

    beforeAll(async () => {
      first = start()
      second = start()
      await Promise.all([first.ready, second.ready])
    })

    afterAll(async () => {
      // The later tests need to know which process takes a job.
      for (const worker of [first, second]) worker.child.kill('SIGTERM')
      await Promise.all([first.exited, second.exited])
    })

    it('applies each of 1,000 events (duplicates included) exactly once', async () => {
      const unique: DomainEvent<typeof appCatalog>[] = []
      while (unique.length < 800)
        unique.push(...oneOfEach().filter((event) => event.type !== 'calendar.changed'))
      unique.length = 800
      // 200 duplicates: half re-sent in the same batch as the original (still pending), half re-sent
      // in the last batch, after their originals have most likely completed.
      const sameBatch = unique.filter((_, i) => i % 8 === 0)
      const late = unique.filter((_, i) => i % 8 === 4)
      const batches: DispatchEvent<typeof appCatalog>[][] = []
      for (let i = 0; i < unique.length; i += 100) {
        const batch = unique.slice(i, i + 100)
        batches.push([...batch, ...sameBatch.filter((event) => batch.includes(event))])
      }
      for (const batch of batches) await dispatcher.dispatchAll(batch)
      await eventually('the first 800 effects', async () => (await redis.scard(LEDGER_KEYS.applied)) === 800)
      const receipts = await dispatcher.dispatchAll(late)
      expect(receipts).toHaveLength(100)
      const lateJobs = receipts.filter((receipt) => !receipt.deduplicated)
      await eventually('late duplicates to finish', async () => {
        const states = await Promise.all(lateJobs.map((receipt) => stateOf(receipt.jobId)))
        return states.every((state) => state === 'completed' || state === 'unknown')
      })

      expect(sameBatch.length + late.length).toBe(200)
      expect(await redis.scard(LEDGER_KEYS.applied)).toBe(800)
      expect(Number(await redis.get(LEDGER_KEYS.total))).toBe(800)
      const perEvent = await redis.hgetall(LEDGER_KEYS.perKey)
      expect(Object.keys(perEvent)).toHaveLength(800)
      expect(new Set(Object.values(perEvent))).toEqual(new Set(['1']))
      // Both processes took work, and late duplicates were delivered again yet had no second effect.
      const byPid = await redis.hgetall(LEDGER_KEYS.deliveriesByPid)
      expect(Object.keys(byPid).sort()).toEqual([String(first.child.pid), String(second.child.pid)].sort())
      const redelivered = await Promise.all(late.map((event) => deliveriesOf(event.eventId)))
      expect(redelivered.some((count) => count >= 2)).toBe(true)
    })

    it("handles an app's own event sent by an old producer, upcast to the version the handler knows", async () => {
      const oldProducer = new Dispatcher({ redis: server.url, catalog: oldProducerCatalog })
      try {
        const sent = aRoomCleanedV1('room-3')
        expect(await oldProducer.dispatch(sent)).toMatchObject({ queue: 'rooms', deduplicated: false })
        await eventually(
          'the handler to run',
          async () => (await redis.exists(`test:room:${sent.eventId}`)) === 1,
        )
        expect(JSON.parse((await redis.get(`test:room:${sent.eventId}`))!)).toEqual({
          ...sent,
          version: 2,
          payload: { roomId: 'room-3', cleanedBy: 'unknown' },
        })
        // An upgraded producer sends version 2, typed: TypeScript rejects the old payload.
        const upgraded = { ...sent, eventId: crypto.randomUUID(), version: 2 as const }
        // @ts-expect-error version 2 requires cleanedBy
        await expect(dispatcher.dispatch(upgraded)).rejects.toMatchObject({
          code: 'CSQ_ERR_INVALID_EVENT',
          message: 'room.cleaned v2: payload.cleanedBy: Invalid input: expected string, received undefined',
        })
        await dispatcher.dispatch({ ...upgraded, payload: { roomId: 'room-3', cleanedBy: 'sam' } })
        await eventually(
          'the second event',
          async () => (await redis.exists(`test:room:${upgraded.eventId}`)) === 1,
        )
      } finally {
        await oldProducer.close()
      }
    })

    it("runs the package's own queues too: failed invalidations and scheduled maintenance", async () => {
      const invalidations = new InvalidationQueue({ redis: server.url })
      try {
        await invalidations.schedule({
          id: 'saga-7:invalidate:forward',
          sagaId: 'saga-7',
          step: 'invalidate',
          target: { tags: ['staff:s7'] },
          error: { name: 'Error', message: 'cache down' },
        })
        await scheduleCacheMaintenance({
          redis: server.url,
          schedules: [{ id: 'warm-staff', every: '100ms', job: { task: 'warm', names: ['staff'] } }],
        })
        await eventually('the invalidation', async () => (await redis.llen('test:invalidated')) === 1)
        expect(JSON.parse((await redis.lindex('test:invalidated', 0))!)).toEqual({ tags: ['staff:s7'] })
        await eventually('a maintenance run', async () => (await redis.llen('test:maintenance')) >= 1)
        expect(await redis.lindex('test:maintenance', 0)).toBe('warm:staff')
      } finally {
        await invalidations.close()
        const maintenance = new Queue(CACHE_MAINTENANCE_QUEUE, {
          connection: redis,
          prefix: DEFAULT_QUEUE_PREFIX,
        })
        await maintenance.removeJobScheduler('warm-staff')
        await maintenance.close()
      }
    })

    it('recovers the job of a SIGKILLed worker on the other worker, and its effect still happens once', async () => {
      const event = aBookingCreated()
      // The handler applies its effect, then stays in flight: the crash lands after the effect but
      // before BullMQ records completion, the case an idempotency key exists for.
      await redis.set(`test:hold:${event.eventId}`, 'after-effect')
      const { jobId } = await dispatcher.dispatch(event)
      await eventually('the effect before the crash', async () => (await effectsOf(event.eventId)) === 1)
      const victimPid = Number(await redis.get(`test:started:${event.eventId}`))
      const victim = [first, second].find((worker) => worker.child.pid === victimPid)!
      const survivor = victim === first ? second : first

      victim.child.kill('SIGKILL')
      expect((await victim.exited).signal).toBe('SIGKILL')
      await redis.del(`test:hold:${event.eventId}`)

      await eventually('recovery by the surviving worker', async () => (await stateOf(jobId)) === 'completed')
      expect(Number(await redis.get(`test:started:${event.eventId}`))).toBe(survivor.child.pid)
      expect(await deliveriesOf(event.eventId)).toBe(2)
      expect(await effectsOf(event.eventId)).toBe(1)
    })
  })

  describe('shutdown on SIGTERM', () => {
    it('stops taking jobs, lets the in-flight job finish, then exits 0', async () => {
      const worker = start()
      await worker.ready
      const inFlight = aBookingCreated()
      await redis.set(`test:hold:${inFlight.eventId}`, 'before-effect')
      const { jobId } = await dispatcher.dispatch(inFlight)
      await eventually(
        'the job to start',
        async () => (await redis.exists(`test:started:${inFlight.eventId}`)) === 1,
      )

      worker.child.kill('SIGTERM')
      await eventually('the stopping log line', async () => worker.stderr().includes('stopping'))
      const late = await dispatcher.dispatch(aBookingCreated())
      await redis.del(`test:hold:${inFlight.eventId}`)

      expect(await worker.exited).toEqual({ code: 0, signal: null })
      expect(await stateOf(jobId)).toBe('completed')
      expect(await effectsOf(inFlight.eventId)).toBe(1)
      expect(await stateOf(late.jobId)).toBe('waiting')
    })

    it('exits 1 when in-flight jobs outlive the shutdown deadline', async () => {
      const worker = start([...FAST_STALL_FLAGS, '--shutdown-timeout', '300'])
      await worker.ready
      const stuck = aBookingCreated()
      await redis.set(`test:hold:${stuck.eventId}`, 'before-effect')
      await dispatcher.dispatch(stuck)
      await eventually(
        'the job to start',
        async () => (await redis.get(`test:started:${stuck.eventId}`)) === String(worker.child.pid),
      )

      worker.child.kill('SIGTERM')
      expect(await worker.exited).toEqual({ code: 1, signal: null })
      expect(worker.stderr()).toContain('shutdown deadline passed')
      await redis.del(`test:hold:${stuck.eventId}`)
    })
  })

  describe('start-up checks', () => {
    it('warns when Redis may evict keys', async () => {
      const evicting = await startRedis({ args: ['--maxmemory-policy', 'allkeys-lru'], allowExternal: false })
      try {
        const worker = spawnWorker(evicting.url, ['--queues', 'booking'])
        workers.push(worker)
        await worker.ready
        expect(worker.stderr()).toMatch(
          /maxmemory-policy should be noeviction.*"maxmemoryPolicy":"allkeys-lru"/,
        )
        worker.child.kill('SIGTERM')
        expect((await worker.exited).code).toBe(0)
      } finally {
        await evicting.stop()
      }
    })

    it('prints its version', async () => {
      const worker = spawnWorker(server.url, ['--version'], { built: true })
      workers.push(worker)
      const { version } = JSON.parse(readFileSync(`${PACKAGE_ROOT}package.json`, 'utf8')) as {
        version: string
      }
      expect(await worker.exited).toEqual({ code: 0, signal: null })
      expect(worker.stdout().trim()).toBe(version)
    })

    it('exits 2 without --handlers, like every usage error', async () => {
      const worker = spawnWorker(server.url, [], { built: true })
      workers.push(worker)
      expect((await worker.exited).code).toBe(2)
      expect(worker.stderr()).toContain("required option '--handlers <module>' not specified")
    })

    it("loads a TypeScript handlers module through the application's tsx, without being started with it", async () => {
      const worker = spawnWorker(server.url, ['--handlers', COUNTING_HANDLERS, '--queues', 'rooms'], {
        built: true,
      })
      workers.push(worker)
      await worker.ready
      worker.child.kill('SIGTERM')
      expect((await worker.exited).code).toBe(0)
    })

    it('says how to run a TypeScript handlers module where tsx cannot be found', async () => {
      const elsewhere = mkdtempSync(join(tmpdir(), 'cachesaga-worker-'))
      try {
        writeFileSync(join(elsewhere, 'handlers.ts'), 'export default {}\n')
        const worker = spawnWorker(server.url, ['--handlers', 'handlers.ts'], { built: true, cwd: elsewhere })
        workers.push(worker)
        expect((await worker.exited).code).toBe(2)
        expect(worker.stderr()).toContain('"code":"CSQ_ERR_INVALID_HANDLERS"')
        expect(worker.stderr()).toContain('npm install --save-dev tsx')
      } finally {
        rmSync(elsewhere, { recursive: true, force: true })
      }
    })

    it('refuses bad flags and names the option', async () => {
      const badNumber = spawnWorker(server.url, ['--concurrency', 'many'])
      const badQueue = spawnWorker(server.url, ['--queues', 'booking,nope'])
      workers.push(badNumber, badQueue)
      expect((await badNumber.exited).code).toBe(2)
      expect(badNumber.stderr()).toContain('"error":"concurrency: ')
      expect((await badQueue.exited).code).toBe(2)
      expect(badQueue.stderr()).toContain('"error":"queues.1: \\"nope\\" is not a queue of this worker')
    })

    it('refuses a handlers module without a handlers default export', async () => {
      const worker = spawnWorker(server.url, ['--handlers', 'src/errors.ts'])
      workers.push(worker)
      expect((await worker.exited).code).toBe(2)
      expect(worker.stderr()).toContain(
        'src/errors.ts: the default export is not a defineHandlers({ ... }) object',
      )
    })
  })

  describe('on a Redis Cluster, as an ACL user', () => {
    it('logs in with REDIS_USERNAME and REDIS_PASSWORD on every node, and refuses a wrong password', async () => {
      // The default user needs a password too, so only the named user's credentials can get the worker in.
      const cluster = await startRedisCluster({
        password: 'default-secret',
        users: [{ name: 'queue-worker', password: 'worker-secret', rules: ['~*', '&*', '+@all'] }],
      })
      const clusterDispatcher = new Dispatcher({
        redis: cluster.connectionFor('queue-worker'),
        catalog: appCatalog,
      })
      try {
        const clusterEnv = (password: string) => ({
          REDIS_URL: '',
          REDIS_CLUSTER_NODES: cluster.nodes.map((node) => `${node.host}:${node.port}`).join(','),
          REDIS_USERNAME: 'queue-worker',
          REDIS_PASSWORD: password,
          TEST_LEDGER_URL: server.url,
        })
        const refused = spawnWorker(server.url, ['--queues', 'booking', '--timeout', '2s'], {
          env: clusterEnv('not-the-password'),
        })
        workers.push(refused)
        expect((await refused.exited).code).toBe(1)
        expect(refused.stderr()).toMatch(/WRONGPASS|invalid username-password/)
        expect(refused.stderr()).not.toContain('not-the-password')

        const worker = spawnWorker(server.url, ['--queues', 'booking'], { env: clusterEnv('worker-secret') })
        workers.push(worker)
        await worker.ready
        const event = aBookingCreated()
        await clusterDispatcher.dispatch(event)
        await eventually('the event handled once', async () => (await effectsOf(event.eventId)) === 1)
        worker.child.kill('SIGTERM')
        expect((await worker.exited).code).toBe(0)
      } finally {
        await clusterDispatcher.close()
        await cluster.stop()
      }
    }, 60_000)

    it('refuses credentials beside REDIS_URL, which carries its own', async () => {
      const worker = spawnWorker(server.url, ['--queues', 'booking'], { env: { REDIS_PASSWORD: 'x' } })
      workers.push(worker)
      expect((await worker.exited).code).toBe(2)
      expect(worker.stderr()).toContain('with REDIS_URL, put the credentials in the URL')
    })
  })

  describe('while Redis goes away and comes back', () => {
    it('logs each change once, as JSON lines only, and then handles what was dispatched', async () => {
      const flaky = await startRedis({ args: ['--maxmemory-policy', 'noeviction'], allowExternal: false })
      const client = new Redis(flaky.url)
      client.on('error', () => {})
      const producer = new Dispatcher({ redis: flaky.url, catalog: appCatalog, timeout: 500 })
      try {
        const worker = spawnWorker(flaky.url, ['--queues', 'rooms'])
        workers.push(worker)
        await worker.ready
        flaky.kill()
        await eventually('the outage to be logged', async () => worker.stderr().includes('redis unreachable'))
        // Long enough for several reconnect attempts and failed polls.
        await new Promise((resolve) => setTimeout(resolve, 1_500))
        await flaky.restart()
        const event = {
          ...aRoomCleanedV1('room-9'),
          version: 2 as const,
          payload: { roomId: 'room-9', cleanedBy: 'kim' },
        }
        await eventually('a dispatch to succeed', () =>
          producer.dispatch(event).then(
            () => true,
            () => false,
          ),
        )
        await eventually(
          'the worker to handle it',
          async () => (await client.exists(`test:room:${event.eventId}`)) === 1,
        )
        const lines = worker.stderr().trim().split('\n')
        const entries = lines.map((line) => JSON.parse(line) as { message: string })
        expect(entries.filter(({ message }) => message.startsWith('redis unreachable'))).toHaveLength(1)
        expect(entries.filter(({ message }) => message === 'redis connection restored')).toHaveLength(1)
        worker.child.kill('SIGTERM')
        expect((await worker.exited).code).toBe(0)
      } finally {
        await producer.close()
        client.disconnect()
        await flaky.stop()
      }
    })
  })
})
