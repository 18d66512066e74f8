import { CachesagaError } from '@cachesaga/common'
import { isChildOf, type SpanRecorder, startSpanRecorder } from '@cachesaga/testkit'
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { bookingCatalog } from '../events/booking-events.js'
import { defineCatalog } from '../events/event-catalog.js'
import { defineEvent } from '../events/event-definition.js'
import { InvalidationQueue } from '../invalidation/invalidation-queue.js'
import { scheduleCacheMaintenance } from '../maintenance/schedule-maintenance.js'
import { Dispatcher } from '../queues/dispatcher.js'
import { CACHE_MAINTENANCE_QUEUE, INVALIDATION_QUEUE } from '../queues/internal-queues.js'
import { aBookingCreated, aCalendarChanged } from '../test-support/events.js'
import { eventually } from '../test-support/eventually.js'
import { scopedQueues } from '../test-support/scoped-queues.js'
import { useRedis } from '../test-support/use-redis.js'
import { type StartWorkersOptions, startWorkers } from '../worker/worker-group.js'

// An event that gives up after two quick tries, so a failing handler reaches the failed set within the test.
const reportRequested = defineEvent('report.requested')
  .version(1, z.object({ reportId: z.string() }))
  .options({ queue: 'reports', jobOptions: { attempts: 2, backoff: { type: 'fixed', delay: 10 } } })
const catalog = defineCatalog([...bookingCatalog.definitions, reportRequested])

const tracer = () => trace.getTracer('the application')

describe('tracing of dispatch and job processing', () => {
  const env = useRedis()
  let spans: SpanRecorder
  beforeAll(() => {
    spans = startSpanRecorder()
  })
  beforeEach(() => spans.reset())
  afterAll(() => spans.stop())

  const setup = async (handlers: Omit<StartWorkersOptions<typeof catalog>, 'redis' | 'prefix' | 'log'>) => {
    const scoped = scopedQueues(env.redis)
    const options = { redis: env.server.url, prefix: scoped.prefix }
    const dispatcher = new Dispatcher({ ...options, catalog })
    const workers = await startWorkers<typeof catalog>({ ...options, log: () => {}, ...handlers })
    return {
      dispatcher,
      queue: scoped.queue,
      prefix: scoped.prefix,
      close: async () => {
        await workers.close({ timeout: '5s' })
        await dispatcher.close()
        await scoped.close()
      },
    }
  }

  it('a dispatch inside a request is a PRODUCER span, and the job a CONSUMER span that is its child; what the handler does joins the trace', async () => {
    const { dispatcher, close } = await setup({
      catalog,
      queues: ['booking'],
      events: {
        'booking.created': async () => {
          tracer().startSpan('the handler reads the database').end()
        },
        'booking.cancelled': () => {},
        'booking.rescheduled': () => {},
      },
    })
    try {
      const event = aBookingCreated()
      const receipt = await tracer().startActiveSpan('POST /bookings', async (request) => {
        try {
          return await dispatcher.dispatch(event)
        } finally {
          request.end()
        }
      })
      await eventually('the process span to end', async () => spans.named('process booking').length === 1)

      const request = spans.one('POST /bookings')
      const send = spans.one('send booking')
      const processing = spans.one('process booking')
      const handlerWork = spans.one('the handler reads the database')
      expect(send.kind).toBe(SpanKind.PRODUCER)
      expect(processing.kind).toBe(SpanKind.CONSUMER)
      expect(isChildOf(send, request)).toBe(true)
      expect(isChildOf(processing, send)).toBe(true)
      expect(isChildOf(handlerWork, processing)).toBe(true)
      expect(send.attributes).toEqual({
        'messaging.system': 'bullmq',
        'messaging.destination.name': 'booking',
        'messaging.operation.type': 'send',
        'messaging.operation.name': 'send',
        'messaging.message.id': receipt.jobId,
        'cachesaga.event.type': 'booking.created',
        'cachesaga.event.id': event.eventId,
        'cachesaga.event.version': 2,
        'cachesaga.job.deduplicated': false,
      })
      expect(processing.attributes).toEqual({
        'messaging.system': 'bullmq',
        'messaging.destination.name': 'booking',
        'messaging.operation.type': 'process',
        'messaging.operation.name': 'process',
        'messaging.message.id': receipt.jobId,
        'cachesaga.event.type': 'booking.created',
        'cachesaga.event.id': event.eventId,
        'cachesaga.event.version': 2,
        'cachesaga.job.attempt': 1,
        'cachesaga.job.outcome': 'completed',
      })
      expect(processing.instrumentationScope.name).toBe('@cachesaga/queue')
    } finally {
      await close()
    }
  })

  it('dispatchAll is one send span per queue, the parent of every job it enqueued there', async () => {
    const { dispatcher, close } = await setup({
      catalog,
      queues: ['booking', 'external-sync'],
      events: {
        'booking.created': () => {},
        'booking.cancelled': () => {},
        'booking.rescheduled': () => {},
        'calendar.changed': () => {},
      },
    })
    try {
      const duplicate = aBookingCreated()
      await dispatcher.dispatchAll([aBookingCreated(), duplicate, duplicate, aCalendarChanged('cal-1')])
      await eventually(
        'three jobs processed',
        async () => spans.finished().filter((span) => span.name.startsWith('process ')).length === 3,
      )
      const booking = spans.one('send booking')
      const sync = spans.one('send external-sync')
      expect(booking.attributes).toMatchObject({
        'messaging.batch.message_count': 3,
        'cachesaga.event.types': ['booking.created'],
        'cachesaga.batch.deduplicated_count': 1,
      })
      expect(sync.attributes).toMatchObject({
        'messaging.batch.message_count': 1,
        'cachesaga.event.types': ['calendar.changed'],
      })
      const bookingJobs = spans.named('process booking')
      expect(bookingJobs).toHaveLength(2)
      expect(bookingJobs.every((span) => isChildOf(span, booking))).toBe(true)
      expect(isChildOf(spans.one('process external-sync'), sync)).toBe(true)
    } finally {
      await close()
    }
  })

  it('a failing handler gives one span per attempt, with the error code as error.type: retrying, then dead-lettered', async () => {
    const { dispatcher, close } = await setup({
      catalog,
      queues: ['reports'],
      events: {
        'report.requested': () => {
          throw new CachesagaError('APP_ERR_PRINTER_JAMMED', 'the printer jammed')
        },
      },
    })
    try {
      await dispatcher.dispatch({
        type: 'report.requested',
        eventId: crypto.randomUUID(),
        occurredAt: new Date().toISOString(),
        tenantId: 't',
        payload: { reportId: 'r-1' },
      })
      await eventually('two attempts', async () => spans.named('process reports').length === 2)
      const send = spans.one('send reports')
      const attempts = spans.named('process reports')
      expect(attempts.map((span) => span.attributes['cachesaga.job.attempt'])).toEqual([1, 2])
      expect(attempts.map((span) => span.attributes['cachesaga.job.outcome'])).toEqual([
        'retrying',
        'dead-lettered',
      ])
      for (const span of attempts) {
        expect(isChildOf(span, send)).toBe(true)
        expect(span.attributes['error.type']).toBe('APP_ERR_PRINTER_JAMMED')
        expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'the printer jammed' })
      }
    } finally {
      await close()
    }
  })

  it('a malformed job is recorded with its code and dead-lettered; a job without a trace context starts its own trace', async () => {
    const { queue, close } = await setup({
      catalog,
      queues: ['booking'],
      events: { 'booking.created': () => {}, 'booking.cancelled': () => {}, 'booking.rescheduled': () => {} },
    })
    try {
      // Enqueued behind dispatch's back, by a producer that does not trace.
      const job = await queue('booking').add('booking.created', { ...aBookingCreated(), payload: {} })
      await eventually('the job to fail', async () => (await job.getState()) === 'failed')
      const processing = spans.one('process booking')
      expect(processing.parentSpanContext).toBeUndefined()
      expect(processing.attributes).toMatchObject({
        'cachesaga.job.outcome': 'dead-lettered',
        'error.type': 'CSQ_ERR_INVALID_EVENT',
      })
    } finally {
      await close()
    }
  })

  it('a trace context that does not validate is dropped with the reason, and the job still runs', async () => {
    let runs = 0
    const { queue, close } = await setup({
      catalog,
      queues: ['booking'],
      events: {
        'booking.created': () => void runs++,
        'booking.cancelled': () => {},
        'booking.rescheduled': () => {},
      },
    })
    try {
      const job = await queue('booking').add('booking.created', aBookingCreated(), {
        telemetry: { metadata: { traceparent: 'forged' } as unknown as string },
      })
      await eventually('the job to complete', async () => (await job.getState()) === 'completed')
      const processing = spans.one('process booking')
      expect(runs).toBe(1)
      expect(processing.parentSpanContext).toBeUndefined()
      expect(processing.events.map(({ name, attributes }) => ({ name, attributes }))).toEqual([
        {
          name: 'cachesaga.trace_context_rejected',
          attributes: { reason: 'traceparent: expected version-traceid-parentid-flags in lowercase hex' },
        },
      ])
    } finally {
      await close()
    }
  })

  it('a failed invalidation scheduled from a saga step is traced to the worker that retries it', async () => {
    const { prefix, close } = await setup({ invalidator: { invalidate: async () => ({ ok: true }) } })
    const invalidations = new InvalidationQueue({ redis: env.server.url, prefix })
    try {
      await tracer().startActiveSpan('step book', async (step) => {
        await invalidations.schedule({
          id: 'saga-1:invalidate:step',
          sagaId: 'saga-1',
          step: 'invalidate',
          target: { tags: ['staff:s1'] },
          error: { code: 'CS_ERR_REDIS_UNREACHABLE', name: 'RedisUnreachableError', message: 'down' },
        })
        step.end()
      })
      await eventually(
        'the process span',
        async () => spans.named(`process ${INVALIDATION_QUEUE}`).length === 1,
      )
      const send = spans.one(`send ${INVALIDATION_QUEUE}`)
      const processing = spans.one(`process ${INVALIDATION_QUEUE}`)
      expect(isChildOf(send, spans.one('step book'))).toBe(true)
      expect(isChildOf(processing, send)).toBe(true)
      const saga = { 'cachesaga.saga.id': 'saga-1', 'cachesaga.saga.step': 'invalidate' }
      expect(send.attributes).toMatchObject({
        ...saga,
        'cachesaga.invalidation.id': 'saga-1:invalidate:step',
      })
      expect(processing.attributes).toMatchObject({ ...saga, 'cachesaga.job.outcome': 'completed' })
    } finally {
      await invalidations.close()
      await close()
    }
  })

  it('each scheduled maintenance run is a trace of its own', async () => {
    const { prefix, close } = await setup({
      maintainer: { warm: async () => undefined, refresh: async () => 0 },
    })
    try {
      await tracer().startActiveSpan('start-up', async (startUp) => {
        await scheduleCacheMaintenance({
          redis: env.server.url,
          prefix,
          schedules: [{ id: 'sweep', every: 100, job: { task: 'refresh' } }],
        })
        startUp.end()
      })
      await eventually(
        'two maintenance runs',
        async () => spans.named(`process ${CACHE_MAINTENANCE_QUEUE}`).length >= 2,
      )
      const [first, second] = spans.named(`process ${CACHE_MAINTENANCE_QUEUE}`)
      expect(first?.parentSpanContext).toBeUndefined()
      expect(second?.spanContext().traceId).not.toBe(first?.spanContext().traceId)
      expect(first?.attributes).toMatchObject({
        'cachesaga.maintenance.task': 'refresh',
        'cachesaga.job.outcome': 'completed',
      })
    } finally {
      await close()
    }
  })
})

describe('without a tracer provider', () => {
  const env = useRedis()

  it('jobs carry no trace context and handlers run outside any span', async () => {
    const scoped = scopedQueues(env.redis)
    const options = { redis: env.server.url, prefix: scoped.prefix, catalog }
    const activeSpans: unknown[] = []
    const workers = await startWorkers({
      ...options,
      queues: ['reports'],
      events: { 'report.requested': () => void activeSpans.push(trace.getActiveSpan()) },
      log: () => {},
    })
    const dispatcher = new Dispatcher(options)
    try {
      const { jobId } = await dispatcher.dispatch({
        type: 'report.requested',
        eventId: crypto.randomUUID(),
        occurredAt: new Date().toISOString(),
        tenantId: 't',
        payload: { reportId: 'r-1' },
      })
      await eventually('the handler to run', async () => activeSpans.length === 1)
      expect(activeSpans).toEqual([undefined])
      expect((await scoped.queue('reports').getJob(jobId))?.opts.telemetry).toBeUndefined()
    } finally {
      await workers.close({ timeout: '5s' })
      await dispatcher.close()
      await scoped.close()
    }
  })
})
