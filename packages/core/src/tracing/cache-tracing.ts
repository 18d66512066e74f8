import { inSpan, otel, PackageTracing } from '@cachesaga/common/tracing'
import type { Attributes, Span, Tracer } from '@opentelemetry/api'
import { InvalidationError } from '../errors.js'
import type { InvalidationKind, InvalidationReport } from '../invalidation/report.js'
import type { InvalidationTarget } from '../invalidation/target.js'
import type { Answer } from '../stack/answer.js'
import type { CacheIdentity } from './cache-identity.js'

/** The tracer of @cachesaga/core; off (undefined) while the application registered no tracer provider. */
export const tracing = new PackageTracing(new URL('../../package.json', import.meta.url))

/** Every span attribute this package sets, by one name each (the README lists them). */
export const ATTR = {
  namespace: 'cachesaga.cache.namespace',
  tenant: 'cachesaga.cache.tenant',
  key: 'cachesaga.cache.key',
  cachedFunction: 'cachesaga.cache.function',
  tier: 'cachesaga.cache.tier',
  hit: 'cachesaga.cache.hit',
  fill: 'cachesaga.cache.fill',
  failSafe: 'cachesaga.cache.fail_safe',
  entries: 'cachesaga.cache.entries',
  kinds: 'cachesaga.invalidation.kinds',
  targets: 'cachesaga.invalidation.targets',
  matched: 'cachesaga.invalidation.matched',
  unmatched: 'cachesaga.invalidation.unmatched',
  removed: 'cachesaga.invalidation.removed',
  published: 'cachesaga.invalidation.published',
  dryRun: 'cachesaga.invalidation.dry_run',
  failedItems: 'cachesaga.invalidation.failed_items',
} as const

/** The read operations traced: `cache getOrSet` (also `getOrSetWithInfo` and `wrap`) and `cache get`. */
export type ReadOperation = 'getOrSet' | 'get'

function readAttributes(cache: CacheIdentity, key: string, cachedFunction: string | undefined): Attributes {
  const attributes: Attributes = { [ATTR.namespace]: cache.namespace, [ATTR.key]: key }
  if (cache.tenant !== undefined) attributes[ATTR.tenant] = cache.tenant
  if (cachedFunction !== undefined) attributes[ATTR.cachedFunction] = cachedFunction
  return attributes
}

/**
 * An L1 hit's span, only inside a trace being recorded (a request's, a job's): a hit of about 100 ns that starts a
 * trace of its own would cost ten times itself for a one-span trace nobody follows, where looking at the current
 * span costs a fraction. Started and ended at once: nothing runs inside it, so it never becomes the current span.
 * Only called when a tracer is registered.
 */
export function traceL1Hit(
  tracer: Tracer,
  operation: ReadOperation,
  cache: CacheIdentity,
  key: string,
  cachedFunction?: string,
): void {
  if (otel!.trace.getActiveSpan()?.isRecording() !== true) return
  const attributes = readAttributes(cache, key, cachedFunction)
  attributes[ATTR.tier] = 'l1'
  attributes[ATTR.hit] = true
  tracer.startSpan(`cache ${operation}`, { kind: otel!.SpanKind.INTERNAL, attributes }).end()
}

/**
 * Runs a read past L1 in a span `cache <operation>` that is current while it runs, so the loader's own work (a query)
 * is its child. The answer says which tier answered (`undefined`: nothing, for a `get`), what the loader's fill did,
 * and whether a grace value answered instead of the loader; a rejection (the loader's error, a hard timeout) is
 * recorded with its code.
 */
export function readInSpan<T>(
  tracer: Tracer,
  operation: ReadOperation,
  cache: CacheIdentity,
  key: string,
  cachedFunction: string | undefined,
  work: () => Promise<Answer<T> | undefined>,
): Promise<Answer<T> | undefined> {
  const options = { kind: otel!.SpanKind.INTERNAL, attributes: readAttributes(cache, key, cachedFunction) }
  return inSpan(tracer, `cache ${operation}`, options, async (span) => {
    const answer = await work()
    if (answer === undefined) {
      span.setAttribute(ATTR.hit, false)
      return answer
    }
    span.setAttribute(ATTR.tier, answer.tier)
    // A grace value is no hit: the loader failed or was slow, and an older value answered.
    span.setAttribute(ATTR.hit, answer.tier !== 'loader' && answer.failSafe === undefined)
    if (answer.fill !== undefined) span.setAttribute(ATTR.fill, answer.fill)
    if (answer.failSafe !== undefined) span.setAttribute(ATTR.failSafe, answer.failSafe)
    return answer
  })
}

/** Runs `set`/`setMany` in a span `cache set` with the number of entries written. */
export function setInSpan(tracer: Tracer, cache: CacheIdentity, entries: number, work: () => Promise<void>) {
  const attributes: Attributes = { [ATTR.namespace]: cache.namespace, [ATTR.entries]: entries }
  if (cache.tenant !== undefined) attributes[ATTR.tenant] = cache.tenant
  return inSpan(tracer, 'cache set', { kind: otel!.SpanKind.INTERNAL, attributes }, work)
}

const KINDS: readonly InvalidationKind[] = ['keys', 'tags', 'patterns', 'scopes', 'queries']

/**
 * Runs an invalidation in a span `cache invalidate`: the kinds of target and how many of each (read from the input
 * as given, before it is validated: a target refused as invalid is recorded with its code too), then from the report
 * what matched, what did not, what was removed and whether the bus message went out. An incomplete invalidation
 * (CS_ERR_INVALIDATION_FAILED) still has its report's figures, with the number of items that failed.
 */
export function invalidateInSpan(
  tracer: Tracer,
  cache: CacheIdentity,
  target: InvalidationTarget,
  work: () => Promise<InvalidationReport>,
): Promise<InvalidationReport> {
  const attributes: Attributes = { [ATTR.namespace]: cache.namespace }
  if (cache.tenant !== undefined) attributes[ATTR.tenant] = cache.tenant
  const kinds: string[] = []
  for (const kind of KINDS) {
    const items: unknown = (target as Partial<Record<InvalidationKind, unknown>> | undefined)?.[kind]
    if (!Array.isArray(items)) continue
    kinds.push(kind)
    attributes[`${ATTR.targets}.${kind}`] = items.length
  }
  attributes[ATTR.kinds] = kinds
  return inSpan(tracer, 'cache invalidate', { kind: otel!.SpanKind.INTERNAL, attributes }, async (span) => {
    try {
      const report = await work()
      recordReport(span, report, kinds)
      return report
    } catch (error) {
      if (error instanceof InvalidationError) recordReport(span, error.report, kinds)
      throw error
    }
  })
}

function recordReport(span: Span, report: InvalidationReport, kinds: readonly string[]): void {
  for (const kind of kinds)
    span.setAttribute(`${ATTR.matched}.${kind}`, report.counts[kind as InvalidationKind])
  span.setAttributes({
    [ATTR.unmatched]: report.unmatched.length,
    [ATTR.removed]: report.removed,
    [ATTR.published]: report.published,
    [ATTR.dryRun]: report.dryRun,
    [ATTR.failedItems]: report.errors.length,
  })
}
