/** What a loader receives. */
export interface LoaderContext<T> {
  readonly key: string
  /** Aborted when the hard timeout gives up on this loader. */
  readonly signal: AbortSignal
  /** The value past its TTL but within grace, if there is one. */
  readonly stale: T | undefined
}

export type Loader<T> = (context: LoaderContext<T>) => Promise<T> | T

/**
 * What a loader receives, with its AbortSignal made only when the loader asks for it: most loaders
 * never do, and an AbortController per load is a measurable share of a miss.
 */
export class LazyLoaderContext<T> implements LoaderContext<T> {
  private controller: AbortController | undefined
  private aborted = false

  constructor(
    readonly key: string,
    readonly stale: T | undefined,
  ) {}

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController()
      if (this.aborted) this.controller.abort()
    }
    return this.controller.signal
  }

  /** Aborts the signal, now if the loader holds it, else as soon as it asks for it. */
  abort(): void {
    this.aborted = true
    this.controller?.abort()
  }
}
