import { getFreePort, type RedisServer, startRedis } from '@cachesaga/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bookingCatalog } from './events/booking-events.js'
import { Dispatcher } from './queues/dispatcher.js'
import { aBookingCreated } from './test-support/events.js'
import { eventually } from './test-support/eventually.js'
import { runScript } from './test-support/run-script.js'
import { startWorkers, type WorkerGroup } from './worker/worker-group.js'
import type { WorkerLog } from './worker/worker-log.js'

describe('when Redis is down', () => {
  it('dispatch and admin calls fail within their timeout with a coded error naming the Redis, printing nothing', async () => {
    const port = await getFreePort()
    const { code, stdout, stderr } = await runScript(
      'src/test-support/dispatch-to-nowhere.ts',
      `redis://:s3cret@127.0.0.1:${port}`,
    )
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' })
    const calls = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
    expect(calls.map((call) => call.name)).toEqual(['dispatch', 'stats'])
    for (const call of calls) {
      expect(call).toMatchObject({
        coded: true,
        code: 'CS_ERR_REDIS_UNREACHABLE',
        details: { target: `redis://:***@127.0.0.1:${port}`, timeoutMs: 500 },
        message: expect.stringContaining('ECONNREFUSED'),
      })
      expect(call.message).not.toContain('s3cret')
      // The timeout, plus what a loaded machine adds to a timer.
      expect(call.elapsedMs).toBeLessThan(2_500)
    }
  })

  it('start-up fails within its timeout with the same coded error', async () => {
    const port = await getFreePort()
    const started = performance.now()
    await expect(
      startWorkers({
        redis: `redis://127.0.0.1:${port}`,
        catalog: bookingCatalog,
        events: { 'booking.created': () => {} },
        queues: ['booking'],
        timeout: '500ms',
        log: () => {},
      }),
    ).rejects.toMatchObject({
      code: 'CS_ERR_REDIS_UNREACHABLE',
      message: expect.stringContaining('ECONNREFUSED'),
    })
    expect(performance.now() - started).toBeLessThan(3_000)
  })
})

describe('when Redis goes away and comes back', () => {
  let server: RedisServer
  beforeAll(async () => {
    server = await startRedis({ args: ['--maxmemory-policy', 'noeviction'], allowExternal: false })
  })
  afterAll(async () => {
    await server.stop()
  })

  it('dispatch fails fast while it is down, then succeeds, and the running workers resume; each change logged once', async () => {
    const logs: Parameters<WorkerLog>[] = []
    const handled: string[] = []
    const options = { redis: server.url, prefix: '{outage}', catalog: bookingCatalog, timeout: 500 }
    const dispatcher = new Dispatcher(options)
    let workers: WorkerGroup | undefined
    try {
      workers = await startWorkers({
        ...options,
        queues: ['booking'],
        events: { 'booking.created': (event) => void handled.push(event.eventId) },
        log: (...entry) => logs.push(entry),
      })
      const before = aBookingCreated()
      await dispatcher.dispatch(before)
      await eventually('the first event', async () => handled.includes(before.eventId))

      server.kill()
      await expect(dispatcher.dispatch(aBookingCreated())).rejects.toMatchObject({
        code: 'CS_ERR_REDIS_UNREACHABLE',
      })
      // Long enough for many reconnect attempts and failed polls: still one line.
      await new Promise((resolve) => setTimeout(resolve, 2_000))
      const unreachable = () => logs.filter(([, message]) => message.startsWith('redis unreachable'))
      expect(unreachable()).toHaveLength(1)

      await server.restart()
      const after = aBookingCreated()
      await eventually('a dispatch to succeed again', () =>
        dispatcher.dispatch(after).then(
          () => true,
          () => false,
        ),
      )
      await eventually('the workers to resume', async () => handled.includes(after.eventId))
      expect(unreachable()).toHaveLength(1)
      expect(logs.filter(([, message]) => message === 'redis connection restored')).toHaveLength(1)
      expect(logs.filter(([level]) => level === 'error').map(([, message]) => message)).toEqual([
        'redis unreachable; retrying in the background',
      ])
    } finally {
      await workers?.close({ timeout: '5s' })
      await dispatcher.close()
    }
  })
})
