import {
  type Duration,
  durationSchema as duration,
  REDIS_CONNECTION_EXPECTED,
  type RedisConnection,
  redisConnectionSchema,
} from '@cachesaga/common'
import { z } from 'zod'
import { invalidOption } from '../errors.js'
import type { Serializer } from '../values/serializer.js'

const NAME = /^[A-Za-z0-9_.:-]+$/

const schema = z
  .object({
    namespace: z.string().max(64).regex(NAME, 'letters, digits and _.:- only'),
    tenant: z.string().max(64).regex(NAME, 'letters, digits and _.:- only').optional(),
    redis: z.union([z.literal(false), redisConnectionSchema], {
      error: `${REDIS_CONNECTION_EXPECTED}, or false for a memory-only cache`,
    }),
    ttl: duration.default(300_000),
    grace: duration.default(0),
    graceBackoff: duration.default(5_000),
    jitter: duration.default(0),
    refreshAhead: z.number().min(0).max(1).default(0.8),
    timeouts: z.object({ soft: duration.optional(), hard: duration.optional() }).strict().default({}),
    l1: z
      .object({ maxEntries: z.number().int().positive().default(10_000), maxAge: duration.default(60_000) })
      .strict()
      .default({ maxEntries: 10_000, maxAge: 60_000 }),
    l2: z
      .object({
        timeout: duration.default(250),
        breaker: z
          .object({ failures: z.number().int().positive().default(5), openFor: duration.default(5_000) })
          .strict()
          .default({ failures: 5, openFor: 5_000 }),
        serverCheckEvery: duration.default(1_000),
      })
      .strict()
      .default({ timeout: 250, breaker: { failures: 5, openFor: 5_000 }, serverCheckEvery: 1_000 }),
    bus: z
      .object({
        outageBound: duration.default(5_000),
        retryQueue: z.number().int().positive().default(1_000),
      })
      .strict()
      .default({ outageBound: 5_000, retryQueue: 1_000 }),
    invalidate: z
      .object({ timeout: duration.refine((ms) => ms > 0, 'a positive duration').default(2_000) })
      .strict()
      .default({ timeout: 2_000 }),
    lease: z
      .object({ ttl: duration.default(10_000), wait: duration.default(5_000) })
      .strict()
      .optional(),
    snapshotEvery: z.union([z.literal(false), duration]).default(10_000),
    serializer: z
      .custom<Serializer>(
        (value) =>
          (typeof value === 'object' || typeof value === 'function') &&
          value !== null &&
          typeof (value as Serializer).stringify === 'function' &&
          typeof (value as Serializer).parse === 'function',
        { message: 'expected an object with stringify(value) and parse(text), such as JSON or superjson' },
      )
      // Not `.default(JSON)`: the default would be copied, and JSON's methods are not enumerable.
      .optional(),
    health: z
      .object({
        hitRate: z
          .object({
            degraded: z.number().min(0).max(1).default(0.9),
            critical: z.number().min(0).max(1).default(0.5),
          })
          .strict()
          .default({ degraded: 0.9, critical: 0.5 }),
        p95: z
          .object({ degraded: duration.default(50), critical: duration.default(500) })
          .strict()
          .default({ degraded: 50, critical: 500 }),
      })
      .strict()
      .default({ hitRate: { degraded: 0.9, critical: 0.5 }, p95: { degraded: 50, critical: 500 } }),
    scopeLevels: z
      .array(
        z
          .string()
          .min(1)
          .max(64)
          .regex(/^[A-Za-z0-9_-]+$/),
      )
      .min(1)
      .optional(),
  })
  .strict()

/** Options of `createCache`. Durations are milliseconds or strings like `'30s'`. */
export interface CacheOptions {
  /** Names the cache; every Redis key carries it as a hash tag (`cs:{namespace}`). Letters, digits, `_.:-`. */
  namespace: string
  /** Scopes every key to one tenant (`cs:{namespace:tenant}`): another tenant's invalidation cannot reach it. */
  tenant?: string
  /**
   * Where L2 lives: a `redis://` URL, an ioredis `Redis`/`Cluster` (duplicated with cachesaga's timeouts, never
   * closed by it), ioredis options (TLS, Sentinel) or `{ cluster: nodes }`; `false` for a memory-only cache.
   * Required: `undefined` (an unset `REDIS_URL`) is an error, not a silent memory-only cache.
   */
  redis: RedisConnection | false
  /**
   * How values are written to Redis and read back: `JSON` (the default, strict: a Map, Set, BigInt, function,
   * cycle or non-finite number is refused with CS_ERR_UNSERIALIZABLE; a Date comes back as its ISO string), or
   * e.g. `superjson` to keep Dates, Maps, Sets and BigInts. Every instance of a namespace must use the same.
   */
  serializer?: Serializer
  /** Default time an entry is fresh. Default `'5m'`. */
  ttl?: Duration
  /** How long past its TTL an entry may still be served when the loader fails or is slow. Default `0`. */
  grace?: Duration
  /** After a loader failure served from grace, how long to keep serving the grace value before retrying. Default `'5s'`. */
  graceBackoff?: Duration
  /** Random extra TTL in `[0, jitter)` so that entries filled together do not expire together. Default `0`. */
  jitter?: Duration
  /** Fraction of the TTL after which a hit triggers one background refresh; `0` disables. Default `0.8`. */
  refreshAhead?: number
  /** Loader timeouts. `soft`: serve the grace value if the loader is slower; `hard`: reject with CS_ERR_LOADER_HARD_TIMEOUT. Both off by default. */
  timeouts?: { soft?: Duration; hard?: Duration }
  /** In-memory tier. `maxEntries` default 10,000; `maxAge` (the longest an L1 copy lives, bounding staleness under any fault) default `'1m'`. */
  l1?: { maxEntries?: number; maxAge?: Duration }
  /**
   * Redis tier. `timeout` per command, default `'250ms'`; `breaker` opens after `failures` consecutive errors
   * (default 5) for `openFor` (default `'5s'`); `serverCheckEvery` (default `'1s'`): how often the cache asks
   * which server serves the namespace, the longest a failover or rollback without a reconnect (a Cluster
   * failover) goes unnoticed. After a reconnect the check runs before any other command.
   */
  l2?: {
    timeout?: Duration
    breaker?: { failures?: number; openFor?: Duration }
    serverCheckEvery?: Duration
  }
  /** Invalidation bus. An outage longer than `outageBound` (default `'5s'`) drops L1; `retryQueue` bounds unsent messages (default 1,000). */
  bus?: { outageBound?: Duration; retryQueue?: number }
  /**
   * `invalidate()`. `timeout` (default `'2s'`): the most one call takes, however many targets it has (they
   * run in parallel, each retried within it), the bus publish included; per call, `invalidate(target, { timeout })`.
   */
  invalidate?: { timeout?: Duration }
  /** Cross-process load lease: one instance loads a missing key while others wait up to `wait` (default `'5s'`). Off when omitted. */
  lease?: { ttl?: Duration; wait?: Duration }
  /** The scope tree's levels from the root, e.g. `['tenant', 'company', 'branch']`; scope paths are then checked against it. */
  scopeLevels?: string[]
  /**
   * How often this instance writes its stats and health to Redis (TTL three periods) for `cache.instances()`
   * and the `cachesaga stats`/`health` commands; `false` never. Default `'10s'`.
   */
  snapshotEvery?: Duration | false
  /**
   * Thresholds of `health()`. Below `hitRate.degraded` (default 0.9) the status is degraded, below
   * `hitRate.critical` (default 0.5) critical; a p95 at or above `p95.degraded` (default `'50ms'`) is
   * degraded, at or above `p95.critical` (default `'500ms'`) critical.
   */
  health?: {
    hitRate?: { degraded?: number; critical?: number }
    p95?: { degraded?: Duration; critical?: Duration }
  }
}

export type ResolvedOptions = z.output<typeof schema>

/** Validates `createCache` options; a bad option fails at once with an error naming the field. */
export function parseOptions(input: unknown): ResolvedOptions {
  const result = schema.safeParse(input)
  if (result.success) return result.data
  const issue = result.error.issues[0]!
  if (issue.path.join('.') === 'redis' && (input as { redis?: unknown }).redis === undefined) {
    throw invalidOption(
      'redis',
      'required, got undefined (is the variable it is read from, such as REDIS_URL, set?); ' +
        'give a Redis connection, or false for a memory-only cache',
    )
  }
  throw invalidOption(issue.path.length > 0 ? issue.path.join('.') : 'options', issue.message)
}
