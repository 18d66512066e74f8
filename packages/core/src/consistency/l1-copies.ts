import { createHash } from 'node:crypto'
import type { L1Copy } from '../bus/l1-probe.js'
import type { L1Memory } from '../tiers/l1-memory.js'

/** This instance's L1 as the checker and the probe read it. */
export type L1Copies = Pick<L1Memory, 'get' | 'keys' | 'maxAgeMs'>

/** A short digest of a value's serialized text: what copies are compared by, so probes never ship values. */
export function valueHash(text: string | undefined): string {
  return createHash('sha1')
    .update(text ?? 'undefined')
    .digest('hex')
    .slice(0, 16)
}

/** This instance's fresh L1 copies of `keys`, plus up to `sample` further keys it holds. */
export function describeL1(
  l1: L1Copies,
  keys: readonly string[],
  sample: number,
  valueText: (value: unknown) => string,
): Record<string, L1Copy | null> {
  const now = Date.now()
  const copies: Record<string, L1Copy | null> = {}
  const describe = (key: string): L1Copy | null => {
    const entry = l1.get(key, now)
    if (entry === undefined || now >= entry.expiresAt) return null
    return { hash: valueHash(valueText(entry.value)), expiresAt: entry.expiresAt }
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
