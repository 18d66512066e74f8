import type { Bus } from '../bus/bus.js'
import type { L1Invalidation } from '../bus/wire-format.js'
import { type Duration, toMilliseconds } from '../config/duration.js'
import type { ScopeTree } from '../config/scope-tree.js'
import { InvalidationError, invalidOption } from '../errors.js'
import type { CacheEventEmitter } from '../events.js'
import type { RedisProtocol } from '../redis/redis-protocol.js'
import type { L1Memory } from '../tiers/l1-memory.js'
import type { LocalEpochs } from '../tiers/local-epochs.js'
import type { CacheIdentity } from '../tracing/cache-identity.js'
import { invalidateInSpan, tracing } from '../tracing/cache-tracing.js'
import { ClearTokens } from './clear-tokens.js'
import { Deadline } from './deadline.js'
import { bumpDependencies } from './dependencies.js'
import type { DependencyItem, KeyItem } from './items.js'
import { deleteKeys } from './keys.js'
import { type PatternItem, type PatternRun, patternItems, removeMatching } from './patterns.js'
import { queryItems } from './queries.js'
import { emptyReport, type InvalidationReport } from './report.js'
import { withRetries } from './retry.js'
import { scopeItems } from './scopes.js'
import { tagItems } from './tags.js'
import { describe, Tally } from './tally.js'
import { type InvalidateOptions, type InvalidationTarget, parseTarget } from './target.js'

/** The Redis operations an invalidation uses. */
export type InvalidationStore = Pick<
  RedisProtocol,
  | 'deleteKeys'
  | 'bumpDependencies'
  | 'bumpPatternEpoch'
  | 'bumpNamespace'
  | 'exist'
  | 'scanEntries'
  | 'storeClearToken'
  | 'takeClearToken'
>

/** This instance's L1 as an invalidation sees it. */
export type LocalCopies = Pick<
  L1Memory,
  'delete' | 'dropDependency' | 'dropMatching' | 'clear' | 'keys' | 'has' | 'tracks'
>

export interface InvalidatorParts {
  l2: InvalidationStore | undefined
  l1: LocalCopies
  epochs: LocalEpochs
  events: CacheEventEmitter
  scopes: ScopeTree
  /** The bus; undefined without Redis. */
  bus: Pick<Bus, 'publish' | 'drained'> | undefined
  /** The default deadline of one `invalidate()` (the `invalidate.timeout` option). */
  timeoutMs: number
  /** What the spans name the cache by. */
  identity: CacheIdentity
}

/**
 * The one invalidation entry point. Order matters: L2 first (bump generations, delete, scan),
 * then the bus (a receiver's L1 drop must not be refilled from the old L2), and this instance's
 * L1 both before and after, with the local epoch bumped, so no read in flight can put back what
 * it fetched before the call. The whole call has one deadline: the L2 groups (keys, dependencies,
 * patterns) run in parallel within it, and the publish gets what is left of it.
 */
export class Invalidator {
  private readonly tokens: ClearTokens

  constructor(private readonly parts: InvalidatorParts) {
    this.tokens = new ClearTokens(parts.l2)
  }

  /** In a `cache invalidate` span when a tracer provider is registered (see cache-tracing.ts). */
  invalidate(input: InvalidationTarget, options: InvalidateOptions = {}): Promise<InvalidationReport> {
    const tracer = tracing.tracer()
    if (tracer === undefined) return this.apply(input, options)
    return invalidateInSpan(tracer, this.parts.identity, input, () => this.apply(input, options))
  }

  private async apply(input: InvalidationTarget, options: InvalidateOptions): Promise<InvalidationReport> {
    const started = performance.now()
    const target = parseTarget(input)
    const deadline = new Deadline(
      options.timeout === undefined ? this.parts.timeoutMs : positive(options.timeout, 'options.timeout'),
    )
    const dryRun = options.dryRun === true
    // Validate everything before touching anything.
    const patterns = patternItems(target.patterns ?? [], options.all === true)
    const queries = queryItems(target.queries ?? [])
    const keys: KeyItem[] = [
      ...(target.keys ?? []).map((key): KeyItem => ({ kind: 'keys', target: key, key })),
      ...queries.keys,
    ]
    const deps: DependencyItem[] = [
      ...tagItems(target.tags ?? []),
      ...scopeItems(target.scopes ?? [], this.parts.scopes),
      ...queries.deps,
    ]
    const report = emptyReport(dryRun)
    const tally = new Tally(report)
    const run = { dryRun, tally, deadline, onProgress: options.onProgress }

    if (dryRun) {
      await deadline.race(
        Promise.all([this.findMatches(keys, deps, run), removeMatching(this.patternStore(), patterns, run)]),
      )
      tally.close(deadline.ms)
    } else {
      const local: L1Invalidation = {}
      if (keys.length > 0) local.keys = keys.map((item) => item.key)
      if (deps.length > 0) local.deps = deps.map((item) => item.dep)
      if (patterns.length > 0) local.patterns = patterns.map((item) => item.glob)
      // Reads already in flight must not put what they fetched into L1 (see LocalEpochs).
      this.parts.epochs.bumpAll()
      await deadline.race(this.applyInL2(keys, deps, patterns, run))
      tally.close(deadline.ms)
      // A call that failed in L2 fails anyway: it does not wait for the bus to get through.
      report.published = await this.publish(local, deadline, report.errors.length === 0)
      this.applyLocally(local, patterns)
    }
    return this.finish(report, started, target)
  }

  requestClearToken(): Promise<string> {
    return this.tokens.issue()
  }

  /** Emergency clear of the whole namespace: one namespace generation bump, then SCAN/UNLINK to free memory. */
  async clear(token: string): Promise<InvalidationReport> {
    const started = performance.now()
    await this.tokens.consume(token)
    const report = emptyReport(false)
    const tally = new Tally(report)
    // No deadline: the bump is what invalidates, and the walk that frees the memory takes what it takes.
    const deadline = new Deadline(Number.POSITIVE_INFINITY)
    const everything: L1Invalidation = { clear: true }
    this.parts.epochs.bumpAll()
    const l2 = this.parts.l2
    if (l2 !== undefined) {
      try {
        await l2.bumpNamespace()
        await removeMatching(this.patternStore(), [{ glob: '*', regex: /^/ }], {
          dryRun: false,
          tally,
          deadline,
        })
      } catch (error) {
        report.errors.push({ kind: 'patterns', target: '*', error: describe(error) })
      }
    }
    // The walk had no deadline; the publish has the usual one.
    report.published = await this.publish(everything, new Deadline(this.parts.timeoutMs), true)
    this.applyLocally(everything, [])
    return this.finish(report, started, {})
  }

  /** Drops from this instance's L1 what an invalidation (own or from the bus) names, and bumps the local epoch. */
  applyLocally(invalidation: L1Invalidation, compiled: readonly PatternItem[] | undefined): void {
    const { l1, epochs } = this.parts
    epochs.bumpAll()
    if (invalidation.clear) {
      l1.clear()
      return
    }
    for (const key of invalidation.keys ?? []) {
      l1.delete(key)
      epochs.bumpKey(key)
    }
    for (const dep of invalidation.deps ?? []) l1.dropDependency(dep)
    if (invalidation.patterns !== undefined) {
      const items = compiled ?? patternItems(invalidation.patterns, true)
      for (const item of items) l1.dropMatching(item.regex)
    }
  }

  /**
   * True once Redis accepted the message. One that failed waits in the bus's retry queue: with `waitForQueue`
   * the call waits for the queue to get through within what is left of its deadline, and leaves it there
   * when that runs out.
   */
  private async publish(
    invalidation: L1Invalidation,
    deadline: Deadline,
    waitForQueue: boolean,
  ): Promise<boolean> {
    const bus = this.parts.bus
    if (bus === undefined) return false
    const sent = await deadline.race(bus.publish(invalidation))
    if (sent !== false || !waitForQueue) return sent === true
    return (await deadline.race(bus.drained().then(() => true))) === true
  }

  private patternStore() {
    const l1 = this.parts.l1
    return { l2: this.parts.l2, l1Keys: () => l1.keys() }
  }

  /**
   * What keys and dependencies match, without changing anything: entries and counters in Redis (a dry run), or
   * this instance's L1 copies (memory only, where L1 is the whole cache).
   */
  private async findMatches(keys: KeyItem[], deps: DependencyItem[], run: PatternRun): Promise<void> {
    const { l1, l2 } = this.parts
    run.tally.expect([...keys, ...deps])
    if (l2 === undefined) {
      run.tally.applied(keys, { matched: keys.map((item) => l1.has(item.key)) })
      run.tally.applied(deps, { matched: deps.map((item) => l1.tracks(item.dep)) })
      return
    }
    try {
      const found = await withRetries(
        () =>
          l2.exist(
            keys.map((item) => item.key),
            deps.map((item) => item.dep),
          ),
        run.deadline,
      )
      run.tally.applied(keys, { matched: found.keys })
      run.tally.applied(deps, { matched: found.deps })
    } catch (error) {
      run.tally.failed([...keys, ...deps], error)
    }
  }

  /** The L2 groups, in parallel: keys, dependencies and patterns touch different counters and entries. */
  private async applyInL2(
    keys: KeyItem[],
    deps: DependencyItem[],
    patterns: PatternItem[],
    run: PatternRun,
  ): Promise<void> {
    const l2 = this.parts.l2
    if (l2 === undefined) {
      await Promise.all([
        this.findMatches(keys, deps, run),
        removeMatching(this.patternStore(), patterns, run),
      ])
      return
    }
    await Promise.all([
      deleteKeys(l2, keys, run.tally, run.deadline),
      bumpDependencies(l2, deps, run.tally, run.deadline),
      removeMatching(this.patternStore(), patterns, run),
    ])
  }

  private finish(
    report: InvalidationReport,
    started: number,
    target: InvalidationTarget,
  ): InvalidationReport {
    report.durationMs = performance.now() - started
    report.ok = report.errors.length === 0
    this.parts.events.emit('invalidate', { target, ok: report.ok })
    if (!report.ok) throw new InvalidationError(report)
    return report
  }
}

function positive(timeout: Duration, field: string): number {
  const ms = toMilliseconds(timeout, field)
  if (ms <= 0) throw invalidOption(field, `a positive duration, got ${JSON.stringify(timeout)}`)
  return ms
}
