import { CachesagaError } from '@cachesaga/common'
import { injectTraceCarrier } from '@cachesaga/common/tracing'
import {
  isChildOf,
  type RedisServer,
  type SpanRecorder,
  startRedis,
  startSpanRecorder,
} from '@cachesaga/testkit'
import { context, SpanStatusCode, trace } from '@opentelemetry/api'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { defineSaga } from '../definition/define-saga.js'
import { DomainRejection } from '../errors.js'
import { createRedisSagaStore } from '../store/redis/redis-store-options.js'
import { freshPrefix } from '../test-support/redis.js'
import { orphan } from '../test-support/runner.js'
import { createSagaRunner, type SagaRunner } from './saga-runner.js'

const app = () => trace.getTracer('the application')

/** What the next run of the saga meets: a payment gateway that times out once, a slot that is taken. */
const world = { chargeTimeouts: 0, slotTaken: false }

const bookAppointment = defineSaga('book-appointment', { input: z.object({ slot: z.string() }) })
  .step('reserve', {
    run: () => {
      app().startSpan('INSERT INTO holds').end()
      return { holdId: 'h-1' }
    },
    compensate: () => {},
  })
  .step('charge', {
    run: () => {
      if (world.chargeTimeouts > 0) {
        world.chargeTimeouts -= 1
        throw new CachesagaError('PAY_ERR_GATEWAY_TIMEOUT', 'the payment gateway did not answer')
      }
      return { paymentId: 'p-1' }
    },
    compensate: () => {},
    retry: { attempts: 3, initialDelay: 1, maxDelay: 5 },
  })
  .step('commit', {
    kind: 'pivot',
    run: () => {
      if (world.slotTaken) throw new DomainRejection('BOOKING_ERR_SLOT_TAKEN', 'the slot was taken meanwhile')
      return { bookingId: 'b-1' }
    },
  })

describe('tracing of sagas', () => {
  let server: RedisServer
  let spans: SpanRecorder
  let runner: SagaRunner
  let prefix: string

  beforeAll(async () => {
    server = await startRedis({ allowExternal: false, persistence: 'aof' })
    spans = startSpanRecorder()
  })
  afterAll(async () => {
    await spans.stop()
    await server.stop()
  })
  beforeEach(() => {
    Object.assign(world, { chargeTimeouts: 0, slotTaken: false })
    prefix = freshPrefix()
    runner = createSagaRunner({
      redis: server.url,
      keyPrefix: prefix,
      sagas: [bookAppointment],
      compensationRetry: { attempts: 2, initialDelay: 1 },
    })
    spans.reset()
  })
  afterEach(() => runner.close())

  const runInRequest = (sagaId: string) =>
    app().startActiveSpan('POST /bookings', async (request) => {
      try {
        return await runner.run(bookAppointment, { slot: '09:00' }, { sagaId })
      } finally {
        request.end()
      }
    })

  it("a run is a span under the caller's, each step attempt its child, and what a step does the attempt's child", async () => {
    world.chargeTimeouts = 1
    const outcome = await runInRequest('saga-1')
    expect(outcome.state).toBe('completed')

    const saga = spans.one('saga book-appointment')
    expect(isChildOf(saga, spans.one('POST /bookings'))).toBe(true)
    expect(saga.attributes).toEqual({
      'cachesaga.saga.name': 'book-appointment',
      'cachesaga.saga.id': 'saga-1',
      'cachesaga.saga.run': 'new',
      'cachesaga.saga.state': 'completed',
    })
    expect(saga.instrumentationScope.name).toBe('@cachesaga/saga')

    const steps = spans.finished().filter((span) => span.name.startsWith('step '))
    expect(steps.map((span) => [span.name, span.attributes['cachesaga.saga.outcome']])).toEqual([
      ['step reserve', 'completed'],
      ['step charge', 'retrying'],
      ['step charge', 'completed'],
      ['step commit', 'completed'],
    ])
    expect(steps.every((span) => isChildOf(span, saga))).toBe(true)
    expect(isChildOf(spans.one('INSERT INTO holds'), spans.one('step reserve'))).toBe(true)

    const [timedOut, charged] = spans.named('step charge')
    expect(timedOut?.attributes).toEqual({
      'cachesaga.saga.name': 'book-appointment',
      'cachesaga.saga.id': 'saga-1',
      'cachesaga.saga.step': 'charge',
      'cachesaga.saga.step.kind': 'task',
      'cachesaga.saga.phase': 'step',
      'cachesaga.saga.attempt': 1,
      'cachesaga.saga.outcome': 'retrying',
      'cachesaga.saga.failure_kind': 'transient',
      'error.type': 'PAY_ERR_GATEWAY_TIMEOUT',
    })
    expect(timedOut?.status).toEqual({
      code: SpanStatusCode.ERROR,
      message: 'the payment gateway did not answer',
    })
    expect(charged?.attributes['cachesaga.saga.attempt']).toBe(2)
    expect(spans.one('step commit').attributes['cachesaga.saga.step.kind']).toBe('pivot')
  })

  it('a rejection at the pivot carries its code and domain code, and each compensation is a span of the run', async () => {
    world.slotTaken = true
    const outcome = await runInRequest('saga-2')
    expect(outcome.state).toBe('compensated')

    const saga = spans.one('saga book-appointment')
    expect(saga.attributes['cachesaga.saga.state']).toBe('compensated')
    expect(spans.one('step commit').attributes).toMatchObject({
      'cachesaga.saga.outcome': 'rejected',
      'cachesaga.saga.failure_kind': 'rejection',
      'error.type': 'SAGA_ERR_DOMAIN_REJECTION',
      'cachesaga.error.domain_code': 'BOOKING_ERR_SLOT_TAKEN',
    })
    const compensations = spans.finished().filter((span) => span.name.startsWith('compensate '))
    expect(compensations.map((span) => span.name)).toEqual(['compensate charge', 'compensate reserve'])
    for (const span of compensations) {
      expect(isChildOf(span, saga)).toBe(true)
      expect(span.attributes).toMatchObject({
        'cachesaga.saga.phase': 'compensation',
        'cachesaga.saga.attempt': 1,
        'cachesaga.saga.outcome': 'completed',
      })
    }
  })

  it('running a finished saga again reads its recorded outcome: a run span linked to the first run, no step spans', async () => {
    await runInRequest('saga-3')
    const first = spans.one('saga book-appointment')
    spans.reset()
    await runInRequest('saga-3')
    const again = spans.one('saga book-appointment')
    expect(again.attributes).toMatchObject({
      'cachesaga.saga.run': 'recorded',
      'cachesaga.saga.state': 'completed',
    })
    expect(spans.finished().map((span) => span.name)).toEqual(['saga book-appointment', 'POST /bookings'])
    expect(again.spanContext().traceId).not.toBe(first.spanContext().traceId)
    expect(again.links.map((link) => link.context.spanId)).toEqual([first.spanContext().spanId])
  })

  it('a saga a recovery sweep takes over starts a trace of its own, whoever called the sweep', async () => {
    const store = createRedisSagaStore({ redis: server.url, keyPrefix: prefix })
    try {
      await orphan(store, 'saga-4', bookAppointment, { slot: '10:00' }, 50)
      await new Promise((resolve) => setTimeout(resolve, 80))
      await app().startActiveSpan('operator console', async (operator) => {
        const [outcome] = await runner.recover()
        expect(outcome?.state).toBe('completed')
        operator.end()
      })
      const saga = spans.one('saga book-appointment')
      expect(saga.parentSpanContext).toBeUndefined()
      expect(saga.spanContext().traceId).not.toBe(spans.one('operator console').spanContext().traceId)
      expect(saga.attributes).toMatchObject({
        'cachesaga.saga.run': 'resumed',
        'cachesaga.saga.id': 'saga-4',
      })
      expect(spans.named('step reserve').every((step) => isChildOf(step, saga))).toBe(true)
      expect(saga.links).toEqual([])
    } finally {
      await store.close()
    }
  })

  it('a resumed saga links to the trace it was started in, when its record kept that context', async () => {
    const store = createRedisSagaStore({ redis: server.url, keyPrefix: prefix })
    try {
      // A runner that started the saga in a request and died before its first step.
      const request = app().startSpan('POST /bookings')
      const traceCarrier = injectTraceCarrier(trace.setSpan(context.active(), request))
      request.end()
      const input = JSON.stringify({ slot: '11:00' })
      await store.acquire(
        'saga-5',
        { token: 'dead', ms: 50 },
        { name: bookAppointment.name, inputJson: input, traceCarrier },
      )
      await new Promise((resolve) => setTimeout(resolve, 80))
      const [outcome] = await runner.recover()
      expect(outcome?.state).toBe('completed')
      const saga = spans.one('saga book-appointment')
      expect(saga.parentSpanContext).toBeUndefined()
      expect(saga.links.map(({ context }) => context)).toMatchObject([
        { traceId: request.spanContext().traceId, spanId: request.spanContext().spanId },
      ])
    } finally {
      await store.close()
    }
  })
})

describe('sagas without a tracer provider', () => {
  let server: RedisServer
  beforeAll(async () => {
    server = await startRedis({ allowExternal: false, persistence: 'aof' })
  })
  afterAll(() => server.stop())

  it('run their steps outside any span', async () => {
    const seen: unknown[] = []
    const saga = defineSaga('probe', { input: z.object({}) }).step('look', {
      run: () => void seen.push(trace.getActiveSpan()),
    })
    const runner = createSagaRunner({ redis: server.url, keyPrefix: freshPrefix() })
    try {
      expect((await runner.run(saga, {}, { sagaId: 'probe-1' })).state).toBe('completed')
      expect(seen).toEqual([undefined])
    } finally {
      await runner.close()
    }
  })
})
