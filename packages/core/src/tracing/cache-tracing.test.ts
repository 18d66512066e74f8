import { isChildOf, type SpanRecorder, startSpanRecorder } from '@cachesaga/testkit'
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { CacheError, createCache } from '../index.js'
import { gate } from '../test-support/gates.js'
import { freshNamespace } from '../test-support/namespaces.js'
import { useTestRedis } from '../test-support/test-redis.js'

const redis = useTestRedis()
const appTracer = () => trace.getTracer('the application')

/** Runs `work` in an application span `name`, as a request handler would. */
function inRequest<T>(name: string, work: () => Promise<T>): Promise<T> {
  return appTracer().startActiveSpan(name, async (span) => {
    try {
      return await work()
    } finally {
      span.end()
    }
  })
}

/** A turn of the event loop: an L1 hit reads whether a provider is registered once per turn. */
const nextTurn = () => new Promise((resolve) => setImmediate(resolve))

describe('tracing of the cache', () => {
  let spans: SpanRecorder
  beforeAll(() => {
    spans = startSpanRecorder()
  })
  beforeEach(async () => {
    await nextTurn()
    spans.reset()
  })
  afterAll(() => spans.stop())

  it('a getOrSet is a span under the caller saying which tier answered: the loader (filled), L2, then L1', async () => {
    const [writer, reader] = await redis.caches(2)
    await inRequest('GET /slots', async () => {
      await writer!.getOrSet('slots:7', async () => {
        appTracer().startSpan('SELECT slots').end()
        return [9, 10]
      })
    })
    await reader!.getOrSet('slots:7', async () => [0])
    await nextTurn()
    await inRequest('GET /slots again', () => reader!.getOrSet('slots:7', async () => [0]))
    // Outside any trace an L1 hit starts none: a one-span trace of a 100 ns hit is noise.
    await reader!.getOrSet('slots:7', async () => [0])

    const [loaded, fromL2, fromL1] = spans.named('cache getOrSet')
    expect(isChildOf(loaded, spans.one('GET /slots'))).toBe(true)
    expect(isChildOf(spans.one('SELECT slots'), loaded)).toBe(true)
    expect(loaded?.kind).toBe(SpanKind.INTERNAL)
    expect(loaded?.instrumentationScope.name).toBe('@cachesaga/core')
    const base = { 'cachesaga.cache.namespace': redis.namespace, 'cachesaga.cache.key': 'slots:7' }
    expect(loaded?.attributes).toEqual({
      ...base,
      'cachesaga.cache.tier': 'loader',
      'cachesaga.cache.hit': false,
      'cachesaga.cache.fill': 'filled',
    })
    expect(fromL2?.attributes).toEqual({ ...base, 'cachesaga.cache.tier': 'l2', 'cachesaga.cache.hit': true })
    expect(fromL1?.attributes).toEqual({ ...base, 'cachesaga.cache.tier': 'l1', 'cachesaga.cache.hit': true })
    expect(isChildOf(fromL1, spans.one('GET /slots again'))).toBe(true)
    expect(spans.named('cache getOrSet')).toHaveLength(3)
    // The root spans of reads outside any request: each its own trace.
    expect(fromL2?.parentSpanContext).toBeUndefined()
  })

  it('a fill that an invalidation made stale says so', async () => {
    const c = await redis.cache()
    const loading = gate()
    const release = gate()
    const read = c.getOrSet('slots:8', async () => {
      loading.open()
      await release.promise
      return 'before the booking'
    })
    await loading.promise
    await c.invalidate({ keys: ['slots:8'] })
    release.open()
    await read
    expect(spans.one('cache getOrSet').attributes).toMatchObject({
      'cachesaga.cache.tier': 'loader',
      'cachesaga.cache.fill': 'stale',
    })
  })

  it("a loader's failure is recorded with its code, and a grace value served instead says why", async () => {
    const c = await redis.cache({ ttl: 20, grace: '1m' })
    const failure = new CacheError('CS_ERR_LOADER_HARD_TIMEOUT', 'the database did not answer')
    await expect(
      c.getOrSet('slots:9', () => {
        throw failure
      }),
    ).rejects.toBe(failure)
    const failed = spans.one('cache getOrSet')
    expect(failed.status).toEqual({ code: SpanStatusCode.ERROR, message: 'the database did not answer' })
    expect(failed.attributes['error.type']).toBe('CS_ERR_LOADER_HARD_TIMEOUT')

    await c.getOrSet('slots:9', () => 'v1')
    await new Promise((resolve) => setTimeout(resolve, 40))
    spans.reset()
    expect(await c.getOrSet('slots:9', () => Promise.reject(failure))).toBe('v1')
    expect(spans.one('cache getOrSet').attributes).toMatchObject({
      'cachesaga.cache.hit': false,
      'cachesaga.cache.fail_safe': 'error',
    })
    expect(spans.one('cache getOrSet').status.code).toBe(SpanStatusCode.UNSET)
  })

  it('get and set are spans too; a cached function names itself', async () => {
    const [c, other] = await redis.caches(2)
    await c!.set('a', 1)
    await c!.setMany([
      { key: 'b', value: 2 },
      { key: 'c', value: 3 },
    ])
    expect(await other!.get('a')).toBe(1)
    expect(await other!.get('missing')).toBeUndefined()
    const slots = c!.wrap(async (staff: number) => [staff], { name: 'getSlots' })
    await slots(7)
    expect(spans.named('cache set').map((span) => span.attributes['cachesaga.cache.entries'])).toEqual([1, 2])
    const [hit, miss] = spans.named('cache get')
    expect(hit?.attributes).toMatchObject({ 'cachesaga.cache.tier': 'l2', 'cachesaga.cache.hit': true })
    expect(miss?.attributes).toMatchObject({ 'cachesaga.cache.key': 'missing', 'cachesaga.cache.hit': false })
    expect(miss?.attributes['cachesaga.cache.tier']).toBeUndefined()
    expect(spans.one('cache getOrSet').attributes['cachesaga.cache.function']).toBe('getSlots')
  })

  it('an invalidation under the caller counts its targets by kind and what matched', async () => {
    const c = await redis.cache()
    await c.getOrSet('booking:1', async () => 'b1', { tags: ['staff:7'] })
    const report = await inRequest('POST /bookings', () =>
      c.invalidate({ keys: ['booking:1', 'booking:2'], tags: ['staff:7', 'staff:8'], patterns: ['slot:*'] }),
    )
    const span = spans.one('cache invalidate')
    expect(isChildOf(span, spans.one('POST /bookings'))).toBe(true)
    expect(span.status.code).toBe(SpanStatusCode.UNSET)
    expect(span.attributes).toEqual({
      'cachesaga.cache.namespace': redis.namespace,
      'cachesaga.invalidation.kinds': ['keys', 'tags', 'patterns'],
      'cachesaga.invalidation.targets.keys': 2,
      'cachesaga.invalidation.targets.tags': 2,
      'cachesaga.invalidation.targets.patterns': 1,
      'cachesaga.invalidation.matched.keys': report.counts.keys,
      'cachesaga.invalidation.matched.tags': report.counts.tags,
      'cachesaga.invalidation.matched.patterns': report.counts.patterns,
      'cachesaga.invalidation.unmatched': report.unmatched.length,
      'cachesaga.invalidation.removed': report.removed,
      'cachesaga.invalidation.published': true,
      'cachesaga.invalidation.dry_run': false,
      'cachesaga.invalidation.failed_items': 0,
    })
    expect(report.counts).toMatchObject({ keys: 1, tags: 1, patterns: 0 })
    expect(report.unmatched).toHaveLength(3)
  })

  it('an invalidation that failed is recorded with its code and still says what was applied', async () => {
    // A Redis user refused SCAN: the key and tag apply, the pattern cannot.
    const user = `no-scan-trace-${process.pid}`
    await redis.admin.call('ACL', 'SETUSER', user, 'on', '>secret', '~*', '&*', '+@all', '-scan')
    const c = redis.track(
      createCache({
        namespace: freshNamespace('traced'),
        redis: `redis://${user}:secret@127.0.0.1:${redis.server.port}`,
      }),
    )
    await c.ready()
    await c.getOrSet('a', async () => 1)
    spans.reset()
    await expect(c.invalidate({ keys: ['a'], patterns: ['c*'] })).rejects.toMatchObject({
      code: 'CS_ERR_INVALIDATION_FAILED',
    })
    const span = spans.one('cache invalidate')
    expect(span.status.code).toBe(SpanStatusCode.ERROR)
    expect(span.attributes).toMatchObject({
      'error.type': 'CS_ERR_INVALIDATION_FAILED',
      'cachesaga.invalidation.matched.keys': 1,
      'cachesaga.invalidation.matched.patterns': 0,
      'cachesaga.invalidation.failed_items': 1,
    })
    expect(span.events.map((event) => event.name)).toEqual(['exception'])
  })

  it('an invalid target is recorded with its code', async () => {
    const c = await redis.cache()
    await expect(c.invalidate({})).rejects.toMatchObject({ code: 'CS_ERR_INVALID_TARGET' })
    expect(spans.one('cache invalidate').attributes).toMatchObject({
      'cachesaga.invalidation.kinds': [],
      'error.type': 'CS_ERR_INVALID_TARGET',
    })
  })
})

describe('an L1 hit and a provider registered meanwhile', () => {
  it('reads whether one is registered once per event-loop turn; every other path at once', async () => {
    const c = await redis.cache()
    await c.getOrSet('k', async () => 1)
    await nextTurn()
    // This turn's first read found no provider: the hits of the same turn are not traced.
    expect(await c.getOrSet('k', async () => 2)).toBe(1)
    const spans = startSpanRecorder()
    try {
      expect(await inRequest('GET /k', () => c.getOrSet('k', async () => 3))).toBe(1)
      expect(spans.finished().map((span) => span.name)).toEqual(['GET /k'])
      await c.invalidate({ keys: ['other'] })
      expect(spans.named('cache invalidate')).toHaveLength(1)
      await nextTurn()
      await inRequest('GET /k', () => c.getOrSet('k', async () => 4))
      expect(spans.named('cache getOrSet').map((span) => span.attributes['cachesaga.cache.tier'])).toEqual([
        'l1',
      ])
    } finally {
      await spans.stop()
    }
  })
})
