import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { eventually, type FiledSpan, isChildOf, readSpanFile } from '@cachesaga/testkit'
import { SpanKind } from '@opentelemetry/api'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { OtherCalendarApp } from '../calendar/caldav/other-calendar-app.js'
import { demoIds } from '../seed/seed-demo-data.js'
import {
  ada,
  mondayAhead,
  type RunningStack,
  startRunningStack,
  treatment,
} from '../test-support/running-stack.js'

/** A span as one of the stack's processes wrote it, with the process it came from (`api`, `relay`, `worker`). */
type ProcessSpan = FiledSpan & { process: string }

// Every process of the stack inherits this environment: each registers an SDK provider writing to its own file.
const traceDir = mkdtempSync(join(tmpdir(), 'booking-trace-'))
let stack: RunningStack
beforeAll(async () => {
  process.env.CACHESAGA_TRACE_DIR = traceDir
  try {
    stack = await startRunningStack('trace', { apis: 1, workers: 1 })
  } finally {
    delete process.env.CACHESAGA_TRACE_DIR
  }
}, 120_000)
afterAll(async () => {
  await stack?.stop()
  rmSync(traceDir, { recursive: true, force: true })
}, 60_000)

/** Every span the stack's processes have ended so far. */
function spansOfTheStack(): ProcessSpan[] {
  return readdirSync(traceDir).flatMap((file) =>
    readSpanFile(join(traceDir, file)).map((span) => ({ ...span, process: file.split('-')[0]! })),
  )
}

/** The one span of `spans` that matches, naming what there was when there is none or several. */
function theOne(spans: ProcessSpan[], what: string, match: (span: ProcessSpan) => boolean): ProcessSpan {
  const found = spans.filter(match)
  if (found.length !== 1) {
    const seen = spans.map((span) => `${span.process}: ${span.name}`).join(', ')
    throw new Error(`expected one ${what}, found ${found.length} among ${seen}`)
  }
  return found[0]!
}

/** The spans of the trace of the API's request span named `name`, once `done` holds for them. */
function traceOfRequest(name: string, done: (spans: ProcessSpan[]) => boolean): Promise<ProcessSpan[]> {
  return eventually(
    `the trace of ${name} to be complete`,
    () => {
      const spans = spansOfTheStack()
      const request = spans.find((span) => span.process === 'api' && span.name === name)
      const inTrace = spans.filter((span) => span.traceId === request?.traceId)
      return request !== undefined && done(inTrace) && inTrace
    },
    { timeoutMs: 30_000, intervalMs: 100 },
  )
}

describe('one booking, traced across the processes', () => {
  it("is one trace: the request, the saga and its steps, the invalidation, the relay's send and the worker's job", async () => {
    const startsAt = `${mondayAhead(2)}T09:00:00.000Z`
    const answer = await stack.processes.client(0).post<{ booking?: { id: string } }>('/bookings', {
      staffId: ada,
      serviceId: treatment,
      customerEmail: 'pat@example.com',
      startsAt,
    })
    expect(answer.status).toBe(201)

    // The worker writes its span when the job ends, after the relay moved the event from the outbox to the queue.
    const trace = await traceOfRequest('POST /bookings', (spans) =>
      spans.some((span) => span.process === 'worker'),
    )

    const request = theOne(trace, 'request span', (span) => span.name === 'POST /bookings')
    expect(request).toMatchObject({
      process: 'api',
      kind: SpanKind.SERVER,
      attributes: { 'http.route': '/bookings', 'http.response.status_code': 201 },
    })
    expect(request.parentSpanId).toBeUndefined()
    const saga = theOne(trace, 'saga span', (span) => span.name === 'saga book-appointment')
    expect(isChildOf(saga, request)).toBe(true)
    expect(saga.attributes).toMatchObject({ 'cachesaga.saga.state': 'completed' })
    const steps = trace.filter((span) => span.name.startsWith('step '))
    expect(steps.map((span) => span.attributes['cachesaga.saga.step'])).toEqual([
      'hold',
      'commit',
      'invalidate-after-booking',
      'write-external-calendar',
      'notify',
      'release-hold',
    ])
    for (const step of steps) expect(isChildOf(step, saga)).toBe(true)
    const [, commit, invalidationStep] = steps

    // The saga's invalidation of the booked day, by @cachesaga/core in the API process.
    const invalidation = theOne(trace, 'invalidation span', (span) => span.name === 'cache invalidate')
    expect(invalidation.process).toBe('api')
    expect(isChildOf(invalidation, invalidationStep)).toBe(true)
    expect(invalidation.attributes['cachesaga.invalidation.failed_items']).toBe(0)

    // The event committed by the pivot step goes through the outbox to the relay, which sends it in that step's trace.
    const send = theOne(trace, 'send span', (span) => span.name === 'send booking')
    expect(send).toMatchObject({ process: 'relay', kind: SpanKind.PRODUCER })
    expect(isChildOf(send, commit)).toBe(true)
    const processing = theOne(trace, 'process span', (span) => span.name === 'process booking')
    expect(processing).toMatchObject({
      process: 'worker',
      kind: SpanKind.CONSUMER,
      attributes: { 'cachesaga.event.type': 'booking.created', 'cachesaga.job.outcome': 'completed' },
    })
    expect(isChildOf(processing, send)).toBe(true)

    // One connected trace: every span of it but the request has its parent in it.
    const ids = new Set(trace.map((span) => span.spanId))
    expect(trace.filter((span) => span !== request && !ids.has(span.parentSpanId ?? ''))).toEqual([])
    expect(new Set(trace.map((span) => span.process))).toEqual(new Set(['api', 'relay', 'worker']))
  }, 90_000)

  it("a calendar webhook's invalidation is in the worker, under the job the request dispatched", async () => {
    const date = mondayAhead(4)
    const [slot] = (await stack.processes.client(0).availability(ada, treatment, date)).slots
    await new OtherCalendarApp(stack.caldavUrl).put(demoIds.calendars.ada, {
      name: 'dentist',
      start: slot!.startsAt.slice(0, 16),
      end: slot!.endsAt.slice(0, 16),
      timeZone: 'UTC',
    })
    const webhook = await stack.processes
      .client(0)
      .webhook('/webhooks/calendar', { calendarId: demoIds.calendars.ada })
    expect(webhook.status).toBe(202)

    const trace = await traceOfRequest('POST /webhooks/calendar', (spans) =>
      spans.some((span) => span.process === 'worker' && span.name === 'cache invalidate'),
    )
    const request = theOne(trace, 'request span', (span) => span.name === 'POST /webhooks/calendar')
    const send = theOne(trace, 'send span', (span) => span.name === 'send external-sync')
    expect(send.process).toBe('api')
    expect(isChildOf(send, request)).toBe(true)
    const processing = theOne(trace, 'process span', (span) => span.name === 'process external-sync')
    expect(processing.process).toBe('worker')
    expect(isChildOf(processing, send)).toBe(true)
    const invalidation = theOne(trace, 'invalidation span', (span) => span.name === 'cache invalidate')
    expect(invalidation.process).toBe('worker')
    expect(isChildOf(invalidation, processing)).toBe(true)
    expect(invalidation.attributes['cachesaga.invalidation.failed_items']).toBe(0)
  }, 90_000)
})
