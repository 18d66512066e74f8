import { SAGA_STATES, type SagaState } from '../saga-record.js'

/**
 * How many buckets the indexes are sharded into. Fixed: a saga's bucket is part of its keys, so every runner (and
 * every release) of one key prefix must agree on it. Enough for the buckets to spread over the masters of a large
 * cluster; few enough that a sweep reads every bucket's index without noticing.
 */
export const BUCKETS = 64

export const ALL_BUCKETS: readonly number[] = Array.from({ length: BUCKETS }, (_, bucket) => bucket)

/** A saga's bucket: FNV-1a (32-bit) of its id, modulo `BUCKETS`. Stable across processes and releases. */
export function bucketOf(sagaId: string): number {
  let hash = 0x811c9dc5
  for (let i = 0; i < sagaId.length; i++) {
    hash ^= sagaId.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193)
  }
  return (hash >>> 0) % BUCKETS
}

/**
 * The only code that knows the key names. Every key of a bucket, and so every key of each saga in it, carries the
 * bucket's hash tag (`{07}`): a script that changes a saga and its bucket's indexes touches one hash slot, which a
 * Redis Cluster requires, and the buckets spread over the masters. On a single node the same layout just works.
 *
 *   <prefix>{07}:saga:<id>          hash  the saga record
 *   <prefix>{07}:saga:<id>:log      list  its log
 *   <prefix>{07}:state:<state>      set   ids per state (operator listings)
 *   <prefix>{07}:active             zset  running/compensating ids by lease deadline (what the sweep claims)
 *   <prefix>{07}:finished           zset  completed/compensated/resolved ids by the time they ended (retention)
 *   <prefix>{07}:retries:due|jobs   zset/hash  the default invalidation retry schedule
 */
export class KeyLayout {
  // Built once: the hot path (a saga's record and log, a bucket's indexes) only concatenates or looks up.
  private readonly tags: readonly string[]
  private readonly bucketIndexes: ReadonlyArray<readonly string[]>

  constructor(private readonly prefix: string) {
    this.tags = ALL_BUCKETS.map((bucket) => `${this.prefix}{${String(bucket).padStart(2, '0')}}:`)
    this.bucketIndexes = ALL_BUCKETS.map((bucket) => [
      this.active(bucket),
      this.finished(bucket),
      ...SAGA_STATES.map((state) => this.stateIndex(bucket, state)),
    ])
  }

  private tag(bucket: number): string {
    return this.tags[bucket]!
  }

  record(sagaId: string): string {
    return `${this.tag(bucketOf(sagaId))}saga:${sagaId}`
  }

  log(sagaId: string): string {
    return `${this.record(sagaId)}:log`
  }

  active(bucket: number): string {
    return `${this.tag(bucket)}active`
  }

  finished(bucket: number): string {
    return `${this.tag(bucket)}finished`
  }

  stateIndex(bucket: number, state: SagaState): string {
    return `${this.tag(bucket)}state:${state}`
  }

  /** The active and finished zsets, then one index set per state in `SAGA_STATES` order: what a state change needs. */
  indexes(bucket: number): readonly string[] {
    return this.bucketIndexes[bucket]!
  }

  retries(bucket: number): { due: string; jobs: string } {
    const tag = this.tag(bucket)
    return { due: `${tag}retries:due`, jobs: `${tag}retries:jobs` }
  }
}
