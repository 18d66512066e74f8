import type { L1Invalidation } from '../bus/wire-format.js'
import type { ScopeTree } from '../config/scope-tree.js'
import { InvalidationError } from '../errors.js'
import type { CacheEventEmitter } from '../events.js'
import type { RedisProtocol } from '../redis/redis-protocol.js'
import type { L1Memory } from '../tiers/l1-memory.js'
import type { LocalEpochs } from '../tiers/local-epochs.js'
import { describe } from './batches.js'
import { ClearTokens } from './clear-tokens.js'
import { bumpDependencies } from './dependencies.js'
import type { DependencyItem, KeyItem } from './items.js'
import { deleteKeys } from './keys.js'
import { type PatternItem, patternItems, removeMatching } from './patterns.js'
import { queryItems } from './queries.js'
import { emptyReport, type InvalidationReport } from './report.js'
import { scopeItems } from './scopes.js'
import { tagItems } from './tags.js'
import { type InvalidateOptions, type InvalidationTarget, parseTarget } from './target.js'

/** The Redis operations an invalidation uses. */
export type InvalidationStore = Pick<
  RedisProtocol,
  | 'deleteKeys'
  | 'bumpDependencies'
  | 'bumpPatternEpoch'
  | 'bumpNamespace'
  | 'scanEntries'
  | 'storeClearToken'
  | 'takeClearToken'
>

/** This instance's L1 as an invalidation sees it. */
export type LocalCopies = Pick<L1Memory, 'delete' | 'dropDependency' | 'dropMatching' | 'clear' | 'keys'>

export interface InvalidatorParts {
  l2: InvalidationStore | undefined
  l1: LocalCopies
  epochs: LocalEpochs
  events: CacheEventEmitter
  scopes: ScopeTree
  /** The bus; undefined without Redis. */
  publish: ((invalidation: L1Invalidation) => Promise<boolean>) | undefined
}

/**
 * The one invalidation entry point. Order matters: L2 first (bump generations, delete, scan),
 * then the bus (a receiver's L1 drop must not be refilled from the old L2), and this instance's
 * L1 both before and after, with the local epoch bumped, so no read in flight can put back what
 * it fetched before the call.
 */
export class Invalidator {
  private readonly tokens: ClearTokens

  constructor(private readonly parts: InvalidatorParts) {
    this.tokens = new ClearTokens(parts.l2)
  }

  async invalidate(input: InvalidationTarget, options: InvalidateOptions = {}): Promise<InvalidationReport> {
    const started = performance.now()
    const target = parseTarget(input)
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

    if (dryRun) {
      for (const item of [...keys, ...deps]) report.counts[item.kind]++
      await removeMatching(this.patternStore(), patterns, true, report, options.onProgress)
    } else {
      const local: L1Invalidation = {}
      if (keys.length > 0) local.keys = keys.map((item) => item.key)
      if (deps.length > 0) local.deps = deps.map((item) => item.dep)
      if (patterns.length > 0) local.patterns = patterns.map((item) => item.glob)
      // Reads already in flight must not put what they fetched into L1 (see LocalEpochs).
      this.parts.epochs.bumpAll()
      await this.applyInL2(keys, deps, patterns, report, options.onProgress)
      report.published = (await this.parts.publish?.(local)) ?? false
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
    const everything: L1Invalidation = { clear: true }
    this.parts.epochs.bumpAll()
    const l2 = this.parts.l2
    if (l2 !== undefined) {
      try {
        await l2.bumpNamespace()
        await removeMatching(this.patternStore(), [{ glob: '*', regex: /^/ }], false, report)
      } catch (error) {
        report.errors.push({ kind: 'patterns', target: '*', error: describe(error) })
      }
    }
    report.published = (await this.parts.publish?.(everything)) ?? false
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

  private patternStore() {
    const l1 = this.parts.l1
    return { l2: this.parts.l2, l1Keys: () => l1.keys() }
  }

  private async applyInL2(
    keys: KeyItem[],
    deps: DependencyItem[],
    patterns: PatternItem[],
    report: InvalidationReport,
    onProgress: InvalidateOptions['onProgress'],
  ): Promise<void> {
    const l2 = this.parts.l2
    if (l2 === undefined) {
      for (const item of [...keys, ...deps]) report.counts[item.kind]++
      await removeMatching(this.patternStore(), patterns, false, report, onProgress)
      return
    }
    await deleteKeys(l2, keys, report)
    await bumpDependencies(l2, deps, report)
    await removeMatching(this.patternStore(), patterns, false, report, onProgress)
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
