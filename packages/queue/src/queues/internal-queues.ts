/** The queue of cache invalidations that failed inside a saga and are retried here (see `InvalidationQueue`). */
export const INVALIDATION_QUEUE = 'cache-invalidation'

/** The queue whose job schedulers drive cache warming and refresh sweeps. */
export const CACHE_MAINTENANCE_QUEUE = 'cache-maintenance'

/** Queues of cachesaga's own jobs; no event type may be routed to them. */
export const RESERVED_QUEUES = [INVALIDATION_QUEUE, CACHE_MAINTENANCE_QUEUE] as const

export type ReservedQueue = (typeof RESERVED_QUEUES)[number]
