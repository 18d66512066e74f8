import type { ResolvedEntryOptions } from '../config/entry-options.js'
import type { StatsCollector } from '../metrics/stats.js'
import type { FillOutcome } from '../stack/answer.js'
import type { CacheStack } from '../stack/cache-stack.js'
import type { Fence } from '../stack/fence.js'
import { LazyLoaderContext, type Loader } from './loader-context.js'

/**
 * Reloads an entry before it expires (refresh-ahead, and the warmer's refresh sweep), with the fenced fill:
 * the fence is taken before the loader runs, so an invalidation meanwhile wins. One background reload per key.
 */
export class RefreshAhead {
  private readonly running = new Set<string>()

  constructor(
    private readonly stack: CacheStack,
    private readonly stats: StatsCollector,
    private readonly absorb: (operation: string, error: unknown, key?: string) => void,
  ) {}

  /** Starts a background reload unless one of `key` runs; `fence` when the read that found it due took one. */
  start<T>(key: string, loader: Loader<T>, options: ResolvedEntryOptions, current: T, fence?: Fence): void {
    if (this.running.has(key)) return
    this.running.add(key)
    this.reload(key, loader, options, current, fence)
      .catch((error: unknown) => {
        this.stats.loaderErrors++
        this.absorb('refresh-ahead', error, key)
      })
      .finally(() => this.running.delete(key))
  }

  /** Loads `key` again and fills it; says whether the fill landed, was rejected as stale, or was not written. */
  async reload<T>(
    key: string,
    loader: Loader<T>,
    options: ResolvedEntryOptions,
    current: T | undefined,
    fence?: Fence,
  ): Promise<FillOutcome> {
    const { l2, epochs } = this.stack
    const epoch = epochs.of(key)
    let taken = fence
    if (taken === undefined && l2 !== undefined) {
      taken =
        (await l2.read(key, options.deps, Date.now())).fence ?? (await l2.captureFence(key, options.deps))
    }
    this.stats.loaderCalls++
    const value = await loader(new LazyLoaderContext(key, current))
    if (value === undefined) return 'not-written'
    return (await this.stack.fill(key, value, { options, epoch, fence: taken, background: true })).outcome
  }
}
