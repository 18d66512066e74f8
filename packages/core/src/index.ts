export { type Cache, createCache, type WrapOptions } from './cache.js'
export type { Duration } from './config/duration.js'
export type { EntryOptions } from './config/entry-options.js'
export type { CacheOptions } from './config/options.js'
export type { CheckOptions, ConsistencyChecker, Verifier } from './consistency/checker.js'
export type {
  CheckLevel,
  ConsistencyReport,
  Inconsistency,
  InconsistentTier,
} from './consistency/report.js'
export { CacheError, type CacheErrorCode, InvalidationError, MatchAllRefusedError } from './errors.js'
export type { CacheEvents, L1DropReason, RedisRestart } from './events.js'
export { CLEAR_TOKEN_LIFETIME_MS } from './invalidation/clear-tokens.js'
export type { InvalidationKind, InvalidationReport } from './invalidation/report.js'
export type { InvalidateOptions, InvalidationTarget, PatternProgress } from './invalidation/target.js'
export type { CacheHealth, HealthStatus } from './metrics/health.js'
export type { RedisInfo } from './metrics/redis-info.js'
export type { InstanceSnapshot } from './metrics/snapshots.js'
export type { CacheStats } from './metrics/stats.js'
export type { ManyEntryOptions, ManyLoader, ManyLoaderContext } from './read/get-many.js'
export type { Served } from './read/get-or-set.js'
export type { Loader, LoaderContext } from './read/loader-context.js'
export type { Tier } from './stack/answer.js'
export type { Serializer } from './values/serializer.js'
export type { KeyProducer, WarmDefinition } from './warming/definition.js'
export type { RefreshOptions, RefreshReport, Warmer, WarmOptions, WarmReport } from './warming/warmer.js'
