import { durationSchema, redisConnectionSchema } from '@cachesaga/common'
import { z } from 'zod'
import { parseOrThrow } from '../../parse.js'
import { RedisSagaStore } from './redis-saga-store.js'

/** A duration of at least `min` ms. */
export const durationAtLeast = (min: number) =>
  durationSchema.refine((ms) => ms >= min, `must be at least ${min} ms`)

/** The Redis store's own options, also accepted by `createSagaRunner` beside `redis`. */
export const redisStoreSettings = {
  /** Prefix of every Redis key. Default `cachesaga:saga:`. No braces: the store adds the hash tags. */
  keyPrefix: z
    .string()
    .min(1)
    .refine((prefix) => !/[{}]/.test(prefix), 'must not contain { or }: the store adds the hash tags itself')
    .default('cachesaga:saga:'),
  /**
   * How long a call waits for Redis to be ready before failing with CS_ERR_REDIS_UNREACHABLE (a runner's `run` then
   * runs nothing). Default `'10s'`.
   */
  connectTimeout: durationAtLeast(1).default(10_000),
  /** How long one Redis command may take before it fails with CS_ERR_REDIS_UNREACHABLE. Default `'5s'`. */
  commandTimeout: durationAtLeast(1).default(5_000),
}

export const redisStoreOptionsSchema = z.object({
  /**
   * The Redis holding saga state: a URL, an ioredis `Redis` or `Cluster`, ioredis options, or `{ cluster: nodes }`.
   * The store opens its own connection from it, closes that in `close()`, and never closes a client it was handed.
   */
  redis: redisConnectionSchema,
  ...redisStoreSettings,
})

export type RedisSagaStoreOptions = z.input<typeof redisStoreOptionsSchema>

/** A Redis saga store, for a runner's `store` option or a store's own tests; close it when done. */
export function createRedisSagaStore(options: RedisSagaStoreOptions): RedisSagaStore {
  return new RedisSagaStore(
    parseOrThrow(redisStoreOptionsSchema, options, 'SAGA_ERR_INVALID_OPTIONS', 'options'),
  )
}
