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
    return this.global + this.buckets[bucketOf(key)]!
  }

  bumpKey(key: string): void {
    this.buckets[bucketOf(key)]!++
  }

  bumpAll(): void {
    this.global++
  }
}

function bucketOf(key: string): number {
  // FNV-1a over UTF-16 code units: cheap, and spreads similar keys across buckets.
  let hash = 0x811c9dc5
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193)
  }
  return (hash >>> 0) & (BUCKETS - 1)
}
