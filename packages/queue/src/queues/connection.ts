import { Redis } from 'ioredis'

/**
 * Workers need `maxRetriesPerRequest: null` so BullMQ's blocking commands survive reconnects. Producers
 * and operator tools get a bounded retry instead: while Redis is down, `dispatch` should fail the caller's
 * request with an error, not hang it.
 */
export function connectRedis(url: string, role: 'worker' | 'producer'): Redis {
  return new Redis(url, { maxRetriesPerRequest: role === 'worker' ? null : 3 })
}
