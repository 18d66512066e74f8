import { keyHash } from './key-hash.js'

const BUCKETS = 1024

/**
 * Counts invalidations applied in this process (own calls and bus messages). A read or fill
 * notes `of(key)` before it starts and writes L1 only if it has not moved since: whatever was
 * invalidated meanwhile cannot be put back into L1 by a reader that fetched it earlier.
 * Key invalidations bump one of 1,024 hashed buckets; everything else bumps the global count.
 */
export class LocalEpochs {
  private global = 0
  private readonly buckets = new Uint32Array(BUCKETS)

  of(key: string): number {
    return this.global + this.buckets[keyHash(key) & (BUCKETS - 1)]!
  }

  bumpKey(key: string): void {
    this.buckets[keyHash(key) & (BUCKETS - 1)]!++
  }

  bumpAll(): void {
    this.global++
  }
}
