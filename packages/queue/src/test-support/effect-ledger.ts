import { readFileSync } from 'node:fs'
import type { Redis } from 'ioredis'

const script = readFileSync(new URL('./record-effect-once.lua', import.meta.url), 'utf8')

export const LEDGER_KEYS = {
  applied: 'test:effects:applied',
  perKey: 'test:effects:per-key',
  total: 'test:effects:total',
  deliveries: 'test:deliveries',
  deliveriesByPid: 'test:deliveries:by-pid',
} as const

/** Applies a test handler's effect at most once per idempotency key; true when applied now. */
export async function recordEffectOnce(redis: Redis, idempotencyKey: string): Promise<boolean> {
  const applied = await redis.eval(
    script,
    3,
    LEDGER_KEYS.applied,
    LEDGER_KEYS.perKey,
    LEDGER_KEYS.total,
    idempotencyKey,
  )
  return applied === 1
}
