import type { ResolvedEntryOptions } from '../config/entry-options.js'
import { CacheError } from '../errors.js'
import type { CacheEventEmitter } from '../events.js'
import type { StatsCollector } from '../metrics/stats.js'
import type { Answer, FailSafeReason, Filled } from '../stack/answer.js'
import type { CacheStack, Fallback } from '../stack/cache-stack.js'
import { type Fence, unversioned } from '../stack/fence.js'
import { LazyLoaderContext, type Loader } from './loader-context.js'
import { awaitLoader } from './loader-timeouts.js'

/** The caller's answer from a fill (undefined: the loader answered undefined, which is not cached). */
function loaded<T>(filled: Filled<T> | undefined, options: ResolvedEntryOptions): Answer<T> {
  if (filled === undefined) {
    return {
      value: undefined as T,
      tier: 'loader',
      recorded: unversioned(options.deps),
      times: { expiresAt: 0, graceEnd: 0, createdAt: 0 },
    }
  }
  return {
    value: filled.value,
    tier: 'loader',
    recorded: filled.recorded,
    times: filled.times,
    fill: filled.outcome,
  }
}

/** One load of a missed key. */
export interface LoadRequest<T> {
  key: string
  loader: Loader<T>
  options: ResolvedEntryOptions
  /** The local invalidation epoch seen before the data was fetched (see LocalEpochs). */
  epoch: number
  /** Undefined when Redis failed before the load, or without Redis: the fill then writes L1 only. */
  fence: Fence | undefined
  /** A grace value to answer instead of a failing or slow loader. */
  fallback: Fallback | undefined
  /** Runs once the fill settled (the lease holder releases its lease). */
  afterFill: (() => void) | undefined
}

export interface LoaderRunnerOptions {
  timeouts: { soft?: number | undefined; hard?: number | undefined }
  graceBackoffMs: number
}

/**
 * Runs a loader for a miss: soft and hard timeouts, and fail-safe (a grace value instead of the loader's
 * error or slowness). The fill always runs when the loader finishes, even after the caller was answered
 * from grace; it is fenced, so a late result cannot land if an invalidation happened meanwhile.
 */
export class LoaderRunner {
  constructor(
    private readonly stack: CacheStack,
    private readonly options: LoaderRunnerOptions,
    private readonly stats: StatsCollector,
    private readonly events: CacheEventEmitter,
    private readonly absorb: (operation: string, error: unknown, key?: string) => void,
  ) {}

  async run<T>(request: LoadRequest<T>): Promise<Answer<T>> {
    const { key, loader, options, epoch, fence, fallback, afterFill } = request
    this.stats.loaderCalls++
    const context = new LazyLoaderContext(key, fallback?.value as T | undefined)
    const soft = fallback === undefined ? undefined : this.options.timeouts.soft
    if (soft === undefined && this.options.timeouts.hard === undefined) {
      return this.untimed(request, context)
    }
    const loading = Promise.resolve().then(() => loader(context))
    const filled: Promise<Filled<T> | undefined> = loading.then((value) =>
      value === undefined
        ? undefined
        : this.stack.fill(key, value, { options, epoch, fence, background: false }),
    )
    // Marks the fill handled: a caller answered from grace does not wait for it (see `inBackground`).
    void filled.catch(() => undefined)
    if (afterFill !== undefined) void filled.then(afterFill, afterFill)
    const outcome = await awaitLoader(loading, soft, this.options.timeouts.hard)
    switch (outcome.kind) {
      case 'value':
        return loaded(await filled, options)
      case 'soft-timeout':
        this.stats.softTimeouts++
        this.inBackground(key, filled)
        return this.serveFallback(key, fallback!, 'soft-timeout', epoch)
      case 'hard-timeout':
        this.stats.hardTimeouts++
        context.abort()
        this.inBackground(key, filled)
        if (fallback !== undefined) return this.serveFallback(key, fallback, 'hard-timeout', epoch)
        throw new CacheError(
          'CS_ERR_LOADER_HARD_TIMEOUT',
          `loader for ${JSON.stringify(key)} did not finish within the hard timeout of ${this.options.timeouts.hard} ms`,
          { details: { key, timeoutMs: this.options.timeouts.hard } },
        )
      case 'error':
        this.stats.loaderErrors++
        if (fallback !== undefined) return this.serveFallback(key, fallback, 'error', epoch)
        throw outcome.error
    }
  }

  /** Without timeouts the caller simply waits for the loader, then for the fill: fewer promises on a miss. */
  private async untimed<T>(request: LoadRequest<T>, context: LazyLoaderContext<T>): Promise<Answer<T>> {
    const { key, loader, options, epoch, fence, fallback, afterFill } = request
    try {
      let value: T
      try {
        value = await loader(context)
      } catch (error) {
        this.stats.loaderErrors++
        if (fallback !== undefined) return this.serveFallback(key, fallback, 'error', epoch)
        throw error
      }
      const filled =
        value === undefined
          ? undefined
          : await this.stack.fill(key, value, { options, epoch, fence, background: false })
      return loaded(filled, options)
    } finally {
      afterFill?.()
    }
  }

  /** A fill nobody waits for reports its own failure (the loader's error went to the caller already). */
  private inBackground(key: string, filled: Promise<unknown>): void {
    filled.catch((error: unknown) => {
      if (error instanceof CacheError) this.absorb('fill', error, key)
    })
  }

  private serveFallback<T>(
    key: string,
    fallback: Fallback,
    reason: FailSafeReason,
    epoch: number,
  ): Answer<T> {
    this.stats.failSafeServed++
    this.events.emit('fail-safe', { key, reason })
    if (reason === 'error') {
      // Back off: keep answering from grace for a while instead of calling a failing loader each time.
      const until = Math.min(Date.now() + this.options.graceBackoffMs, fallback.times.graceEnd)
      this.stack.holdGrace(key, fallback, until, epoch)
    }
    return {
      value: fallback.value as T,
      tier: fallback.tier,
      recorded: fallback.recorded,
      times: fallback.times,
      failSafe: reason,
    }
  }
}
