import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SpanKind, trace } from '@opentelemetry/api'
import { SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { afterEach, describe, expect, it } from 'vitest'
import { isChildOf, readSpanFile, SpanFileExporter, type SpanRecorder, startSpanRecorder } from './spans.js'

describe('a span recorder', () => {
  let recorder: SpanRecorder | undefined
  afterEach(async () => {
    await recorder?.stop()
  })

  it('keeps the spans of the registered provider, tells parents, and unregisters on stop', async () => {
    recorder = startSpanRecorder()
    const tracer = trace.getTracer('test')
    tracer.startActiveSpan('parent', (parent) => {
      tracer.startSpan('child').end()
      parent.end()
    })
    const [child, parent] = recorder.finished()
    expect(recorder.named('child')).toEqual([child])
    expect(recorder.one('child')).toBe(child)
    tracer.startSpan('child').end()
    expect(() => recorder!.one('child')).toThrow(
      'expected one span "child", found 2 (ended: child, parent, child)',
    )
    expect(isChildOf(child, parent)).toBe(true)
    expect(isChildOf(parent, child)).toBe(false)
    recorder.reset()
    expect(recorder.finished()).toEqual([])
    expect(() => recorder!.one('child')).toThrow('found 0 (ended: none)')
    await recorder.stop()
    recorder = undefined
    expect(trace.getTracer('test').startSpan('after').isRecording()).toBe(false)
  })

  it('writes spans to a file that another process can read, with their ids', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'testkit-spans-'))
    try {
      const path = join(dir, 'spans.jsonl')
      expect(readSpanFile(path)).toEqual([])
      recorder = startSpanRecorder()
      const exporter = new SpanFileExporter(path)
      const processor = new SimpleSpanProcessor(exporter)
      const tracer = trace.getTracer('test')
      tracer.startActiveSpan('parent', { kind: SpanKind.CONSUMER, attributes: { n: 1 } }, (parent) => {
        const child = tracer.startSpan('child')
        child.end()
        parent.end()
        processor.onEnd(recorder!.named('child')[0]!)
        processor.onEnd(recorder!.named('parent')[0]!)
      })
      const [child, parent] = readSpanFile(path)
      expect(parent).toMatchObject({ name: 'parent', kind: SpanKind.CONSUMER, attributes: { n: 1 } })
      expect(isChildOf(child, parent)).toBe(true)
      expect(isChildOf(child, recorder.named('parent')[0])).toBe(true)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
