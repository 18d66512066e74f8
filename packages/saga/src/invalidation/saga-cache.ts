import type { InvalidationTarget } from '@cachesaga/core'

/**
 * The part of a @cachesaga/core cache a saga uses. Structural, so a cache behind a proxy or in another process fits.
 * Not done means `ok: false` or a rejection (core rejects with CS_ERR_INVALIDATION_FAILED).
 */
export interface SagaCache {
  invalidate(target: InvalidationTarget): Promise<{ ok: boolean }>
}
