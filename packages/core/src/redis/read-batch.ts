import type { KeyLayout } from './key-layout.js'

/** One read waiting for its batch: what it asked for, and how to answer it. */
export interface PendingRead<T> {
  readonly key: string
  /** undefined: a plain read that needs no fence (only the entry and the namespace generation). */
  readonly deps: readonly string[] | undefined
  /** The caller's clock when it asked: what freshness is judged at. */
  readonly now: number
  resolve(answer: T | PromiseLike<T>): void
  reject(error: unknown): void
}

/** The MGET of a batch, and where each read's view of it is. */
export interface BatchedMget {
  readonly keys: string[]
  /**
   * For read i, the reply positions of [entry, n, key generation, p, ...deps]; a plain read has only the
   * first two.
   */
  readonly positions: ReadonlyArray<readonly number[]>
}

/**
 * Past this many reads a batch is split: one MGET of thousands of keys would hold Redis, and every other
 * client, for as long as it takes to answer.
 */
export const MAX_READS_PER_MGET = 128

/**
 * The keys of one MGET that answers every read of a batch. The counters reads share (the namespace
 * generation, the pattern epoch, a key-generation bucket, a tag) are asked for once.
 */
export function batchedMget(
  layout: KeyLayout,
  reads: ReadonlyArray<Pick<PendingRead<unknown>, 'key' | 'deps'>>,
): BatchedMget {
  const keys: string[] = []
  for (const { key } of reads) keys.push(layout.entry(key))
  const index = new Map<string, number>()
  const slot = (name: string): number => {
    let at = index.get(name)
    if (at === undefined) {
      at = keys.length
      keys.push(name)
      index.set(name, at)
    }
    return at
  }
  const namespaceGeneration = slot(layout.namespaceGeneration)
  const positions = reads.map(({ key, deps }, i) => {
    if (deps === undefined) return [i, namespaceGeneration]
    const at = [i, namespaceGeneration, slot(layout.keyGeneration(key)), slot(layout.patternEpoch)]
    for (const dep of deps) at.push(slot(layout.counter(dep)))
    return at
  })
  return { keys, positions }
}

/** The reply as one read's own MGET would have answered it: [entry, n, key generation, p, ...deps]. */
export function viewOf(
  reply: ReadonlyArray<string | null>,
  positions: readonly number[],
): Array<string | null> {
  const view = new Array<string | null>(positions.length)
  for (let i = 0; i < positions.length; i++) view[i] = reply[positions[i]!] ?? null
  return view
}

/**
 * Collects the reads asked for in one turn of the event loop and hands them over together once the turn's
 * promise callbacks have run (a `process.nextTick` queued from one of them runs after all of them). Fifty
 * requests that each read a key then become one MGET rather than fifty: fewer commands for the client to
 * build and parse, and for Redis to run. A read alone in its turn waits no longer than that tick.
 */
export class ReadBatcher<T> {
  private pending: Array<PendingRead<T>> | undefined

  constructor(private readonly flush: (reads: Array<PendingRead<T>>) => void) {}

  add(key: string, deps: readonly string[] | undefined, now: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let pending = this.pending
      if (pending === undefined) {
        pending = this.pending = []
        process.nextTick(this.drain)
      }
      pending.push({ key, deps, now, resolve, reject })
    })
  }

  private readonly drain = (): void => {
    const reads = this.pending!
    this.pending = undefined
    for (let from = 0; from < reads.length; from += MAX_READS_PER_MGET) {
      this.flush(
        from === 0 && reads.length <= MAX_READS_PER_MGET
          ? reads
          : reads.slice(from, from + MAX_READS_PER_MGET),
      )
    }
  }
}
