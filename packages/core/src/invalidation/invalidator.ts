import type { Bus } from '../bus/bus.js'
import type { L1Invalidation } from '../bus/wire-format.js'
import type { ScopeTree } from '../config/scope-tree.js'
import { InvalidationError } from '../errors.js'
import type { CacheParts } from '../parts.js'
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

/**
 * The one invalidation entry point. Order matters: L2 first (bump generations, delete, scan),
 * then the bus (a receiver's L1 drop must not be refilled from the old L2), and this instance's
 * L1 both before and after, with the local epoch bumped, so no read in flight can put back what
 * it fetched before the call.
 */
export class Invalidator {
  private readonly tokens: ClearTokens

  constructor(
    private readonly parts: CacheParts,
    private readonly bus: Bus | undefined,
    private readonly scopes: ScopeTree,
  ) {
    this.tokens = new ClearTokens(parts.l2, parts.layout)
  }

  async invalidate(input: InvalidationTarget, options: InvalidateOptions = {}): Promise<InvalidationReport> {
    const started = performance.now()
    const target = parseTarget(input)
    const dryRun = options.dryRun === true
    // Validate everything before touching anything.
    const patterns = patternItems(target.patterns ?? [], this.parts.layout.entryPrefix, options.all === true)
    const queries = queryItems(target.queries ?? [])
    const keys: KeyItem[] = [
      ...(target.keys ?? []).map((key): KeyItem => ({ kind: 'keys', target: key, key })),
      ...queries.keys,
    ]
    const deps: DependencyItem[] = [
      ...tagItems(target.tags ?? []),
      ...scopeItems(target.scopes ?? [], this.scopes),
      ...queries.deps,
    ]
    const report = emptyReport(dryRun)

    if (dryRun) {
      for (const item of [...keys, ...deps]) report.counts[item.kind]++
      await removeMatching(this.parts, patterns, true, report, options.onProgress)
    } else {
      const local: L1Invalidation = {}
      if (keys.length > 0) local.keys = keys.map((item) => item.key)
      if (deps.length > 0) local.deps = deps.map((item) => item.dep)
      if (patterns.length > 0) local.patterns = patterns.map((item) => item.glob)
      // Reads already in flight must not put what they fetched into L1 (see LocalEpochs).
      this.parts.epochs.bumpAll()
      await this.applyInL2(keys, deps, patterns, report, options.onProgress)
      report.published = await this.publish(local)
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
    const { l2, layout } = this.parts
    if (l2 !== undefined) {
      try {
        await l2.bump([layout.namespaceGeneration, layout.patternEpoch])
        await removeMatching(
          this.parts,
          [{ glob: '*', match: `${layout.entryPrefix}*`, regex: /^/ }],
          false,
          report,
        )
      } catch (error) {
        report.errors.push({ kind: 'patterns', target: '*', error: describe(error) })
      }
    }
    report.published = await this.publish(everything)
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
      if (!this.parts.faults.skipL1Delete) l1.delete(key)
      epochs.bumpKey(key)
    }
    for (const dep of invalidation.deps ?? []) l1.dropDependency(dep)
    if (invalidation.patterns !== undefined) {
      const items = compiled ?? patternItems(invalidation.patterns, this.parts.layout.entryPrefix, true)
      for (const item of items) l1.dropMatching(item.regex)
    }
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
      await removeMatching(this.parts, patterns, false, report, onProgress)
      return
    }
    await deleteKeys(l2, keys, report)
    const bumped = this.parts.faults.skipTagBump ? deps.filter((item) => item.kind !== 'tags') : deps
    await bumpDependencies(l2, this.parts.layout, bumped, report)
    await removeMatching(this.parts, patterns, false, report, onProgress)
  }

  private async publish(invalidation: L1Invalidation): Promise<boolean> {
    if (this.bus === undefined) return false
    const published = await this.bus.publish(invalidation)
    return published
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
