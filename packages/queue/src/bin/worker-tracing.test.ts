import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isChildOf, readSpanFile, type SpanRecorder, startSpanRecorder } from '@cachesaga/testkit'
import { SpanKind, trace } from '@opentelemetry/api'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Dispatcher } from '../index.js'
import { appCatalog } from '../test-support/app-events.js'
import { aBookingCreated } from '../test-support/events.js'
import { eventually } from '../test-support/eventually.js'
import { useRedis } from '../test-support/use-redis.js'
import { spawnWorker, type WorkerProcess } from '../test-support/worker-process.js'

describe('a cachesaga-worker process with tracing enabled', () => {
  const env = useRedis()
  let spans: SpanRecorder
  const dir = mkdtempSync(join(tmpdir(), 'cachesaga-spans-'))
  const spansFile = join(dir, 'worker-spans.jsonl')
  let worker: WorkerProcess
  let dispatcher: Dispatcher<typeof appCatalog>

  beforeAll(async () => {
    spans = startSpanRecorder()
    // The built binary, as users run it; tracing comes from the handlers module it loads.
    worker = spawnWorker(
      env.server.url,
      ['--handlers', 'src/test-support/traced-handlers.ts', '--queues', 'booking'],
      { built: true, env: { SPANS_FILE: spansFile } },
    )
    await worker.ready
    dispatcher = new Dispatcher({ redis: env.server.url, catalog: appCatalog })
  })

  afterAll(async () => {
    worker.child.kill('SIGTERM')
    await worker.exited
    await dispatcher.close()
    await spans.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('processes a job in a span that is the child of the dispatching span in this process: one trace', async () => {
    const event = aBookingCreated()
    await trace.getTracer('the application').startActiveSpan('POST /bookings', async (request) => {
      await dispatcher.dispatch(event)
      request.end()
    })
    const send = spans.one('send booking')
    await eventually('the worker to write its spans', async () =>
      readSpanFile(spansFile).some((span) => span.name === 'process booking'),
    )
    const filed = readSpanFile(spansFile)
    const processing = filed.find((span) => span.name === 'process booking')!
    const handlerWork = filed.find((span) => span.name === 'write the booking')
    expect(isChildOf(processing, send)).toBe(true)
    expect(processing).toMatchObject({
      kind: SpanKind.CONSUMER,
      attributes: { 'cachesaga.event.id': event.eventId, 'cachesaga.job.outcome': 'completed' },
    })
    expect(isChildOf(handlerWork, processing)).toBe(true)
    expect(isChildOf(send, spans.one('POST /bookings'))).toBe(true)
  })
})
