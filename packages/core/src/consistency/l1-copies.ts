import { createHash } from 'node:crypto'
import type { L1Copy } from '../bus/l1-probe.js'
import type { L1Memory } from '../tiers/l1-memory.js'

/** A short digest of a value's JSON: what copies are compared by, so probes never ship values. */
export function valueHash(json: string | undefined): string {
  return createHash('sha1')
    .update(json ?? 'undefined')
    .digest('hex')
    .slice(0, 16)
}

/** This instance's fresh L1 copies of `keys`, plus up to `sample` further keys it holds. */
export function describeL1(
  l1: L1Memory,
  keys: readonly string[],
  sample: number,
): Record<string, L1Copy | null> {
  const now = Date.now()
  const copies: Record<string, L1Copy | null> = {}
  const describe = (key: string): L1Copy | null => {
    const entry = l1.get(key, now)
    if (entry === undefined || now >= entry.expiresAt) return null
    return { hash: valueHash(JSON.stringify(entry.value)), expiresAt: entry.expiresAt }
  }
  for (const key of keys) copies[key] = describe(key)
  let extra = 0
  for (const key of l1.keys()) {
    if (extra >= sample) break
    if (key in copies) continue
    const copy = describe(key)
    if (copy === null) continue
    copies[key] = copy
    extra++
  }
  return copies
}
