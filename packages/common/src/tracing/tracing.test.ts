import { execFileSync } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { type SpanRecorder, startSpanRecorder } from '@cachesaga/testkit'
import { context, SpanStatusCode, trace } from '@opentelemetry/api'
import { afterEach, describe, expect, it } from 'vitest'
import { CachesagaError } from '../errors/cachesaga-error.js'
import { loadOtelApi } from './otel-api.js'
import { inSpan, PackageTracing } from './package-tracing.js'
import { extractTraceCarrier, injectTraceCarrier } from './trace-carrier.js'

const packageDir = fileURLToPath(new URL('../..', import.meta.url))
const require = createRequire(import.meta.url)
const tracing = new PackageTracing(new URL('../../package.json', import.meta.url))

let recorder: SpanRecorder | undefined
function registerProvider(): SpanRecorder {
  recorder = startSpanRecorder()
  return recorder
}

afterEach(async () => {
  await recorder?.stop()
  recorder = undefined
})

describe('a package tracer', () => {
  it('is off while no tracer provider is registered, and follows registration both ways', () => {
    expect(tracing.tracer()).toBeUndefined()
    const spans = registerProvider()
    const tracer = tracing.tracer()
    expect(tracer).toBeDefined()
    tracer!.startSpan('probe').end()
    const [span] = spans.finished()
    expect(span?.instrumentationScope).toMatchObject({ name: '@cachesaga/common', version: tracing.version })
    trace.disable()
    expect(tracing.tracer()).toBeUndefined()
  })

  it('runs work in a span that is the parent of the spans started inside it', async () => {
    const spans = registerProvider()
    const tracer = tracing.tracer()!
    const result = await inSpan(tracer, 'outer', {}, async () => {
      tracer.startSpan('inner').end()
      return 42
    })
    expect(result).toBe(42)
    const [inner, outer] = spans.finished()
    expect(inner?.parentSpanContext?.spanId).toBe(outer?.spanContext().spanId)
    expect(outer?.status.code).toBe(SpanStatusCode.UNSET)
  })

  it("records a failure with the error's code as error.type, never read from the message, and rethrows it", async () => {
    const spans = registerProvider()
    const failure = new CachesagaError('CS_ERR_EXAMPLE', 'the message says nothing of the code')
    await expect(
      inSpan(tracing.tracer()!, 'failing', {}, async () => {
        throw failure
      }),
    ).rejects.toBe(failure)
    const plain = new TypeError('no code here')
    await expect(
      inSpan(tracing.tracer()!, 'failing plainly', {}, async () => {
        throw plain
      }),
    ).rejects.toBe(plain)
    const [coded, uncoded] = spans.finished()
    expect(coded?.attributes['error.type']).toBe('CS_ERR_EXAMPLE')
    expect(coded?.status).toEqual({
      code: SpanStatusCode.ERROR,
      message: 'the message says nothing of the code',
    })
    expect(coded?.events.map((event) => event.name)).toEqual(['exception'])
    expect(uncoded?.attributes['error.type']).toBe('TypeError')
  })
})

describe('a trace carrier', () => {
  it('carries the active span as a W3C traceparent, and gives it back as the parent of a span started elsewhere', () => {
    const spans = registerProvider()
    const tracer = tracing.tracer()!
    const sender = tracer.startSpan('send')
    const carrier = injectTraceCarrier(trace.setSpan(context.active(), sender))
    sender.end()
    expect(carrier?.traceparent).toMatch(/^00-[\da-f]{32}-[\da-f]{16}-01$/)

    const extracted = extractTraceCarrier(JSON.parse(JSON.stringify(carrier)))
    expect('context' in extracted).toBe(true)
    if ('context' in extracted) tracer.startSpan('receive', {}, extracted.context).end()
    const [send, receive] = spans.finished()
    expect(receive?.spanContext().traceId).toBe(send?.spanContext().traceId)
    expect(receive?.parentSpanContext?.spanId).toBe(send?.spanContext().spanId)
  })

  it('is nothing when there is no span to carry', () => {
    registerProvider()
    expect(injectTraceCarrier()).toBeUndefined()
  })

  it('from outside is validated like any input, naming the field at fault', () => {
    registerProvider()
    expect(extractTraceCarrier({ traceparent: 'not-a-trace' })).toEqual({
      problem: 'traceparent: expected version-traceid-parentid-flags in lowercase hex',
    })
    expect(extractTraceCarrier({ traceparent: 7 })).toMatchObject({
      problem: expect.stringMatching(/^traceparent: /),
    })
    expect(extractTraceCarrier('00-abc')).toMatchObject({ problem: expect.stringMatching(/^\(root\): /) })
    const many = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`field-${i}`, 'x']))
    expect(extractTraceCarrier(many)).toEqual({ problem: '(root): expected at most 16 fields' })
  })
})

describe('without @opentelemetry/api installed', () => {
  it('the package loads and traces nothing', () => {
    // The built tracing entry, copied where only zod resolves: what an application without OpenTelemetry has.
    const dir = mkdtempSync(join(tmpdir(), 'cachesaga-no-otel-'))
    try {
      cpSync(join(packageDir, 'dist'), join(dir, 'dist'), { recursive: true })
      cpSync(join(packageDir, 'package.json'), join(dir, 'package.json'))
      mkdirSync(join(dir, 'node_modules'))
      symlinkSync(dirname(require.resolve('zod/package.json')), join(dir, 'node_modules', 'zod'))
      const script = `
        const { otel, PackageTracing } = await import('./dist/tracing/index.js')
        const tracing = new PackageTracing(new URL('${pathToFileURL(join(dir, 'package.json'))}'))
        console.log(JSON.stringify({ api: otel !== undefined, tracer: tracing.tracer() !== undefined }))`
      // pnpm's bin shims put the workspace store on NODE_PATH, where the API is; an application has no such path.
      const { NODE_PATH: _, ...env } = process.env
      const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: dir, env })
      expect(JSON.parse(output.toString())).toEqual({ api: false, tracer: false })
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('a copy that is installed but fails to load is reported, not taken for "not installed"', () => {
    const broken = Object.assign(
      () => {
        throw new SyntaxError('Unexpected token')
      },
      { resolve: () => '/somewhere/@opentelemetry/api/index.js' },
    )
    expect(() => loadOtelApi(broken as unknown as NodeJS.Require)).toThrow(SyntaxError)
  })
})
