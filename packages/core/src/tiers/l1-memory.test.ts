import { describe, expect, it } from 'vitest'
import { unversioned } from '../stack/fence.js'
import { type L1Entry, L1Memory } from './l1-memory.js'

const entry = (deps: string[], value: unknown = 'v'): L1Entry => {
  const now = Date.now()
  return {
    value,
    expiresAt: now + 60_000,
    refreshAt: Number.POSITIVE_INFINITY,
    graceEnd: now + 60_000,
    createdAt: now,
    deadline: now + 60_000,
    recorded: unversioned(deps),
  }
}

describe('L1 memory', () => {
  it('invalidates 100,000 copies of a tag without touching any of them; each is dropped when next read', () => {
    const l1 = new L1Memory(200_000, 60_000)
    for (let i = 0; i < 100_000; i++) l1.set(`k${i}`, entry(['t:staff:7', `t:slot:${i}`]))
    l1.set('other', entry(['t:staff:8']))
    l1.dropDependency('t:staff:7')
    // Nothing was walked: every copy is still held...
    expect(l1.size).toBe(100_001)
    // ...but none is served, and a read drops exactly the copy it read.
    for (let i = 0; i < 100_000; i += 10_000) expect(l1.get(`k${i}`, Date.now())).toBeUndefined()
    expect(l1.size).toBe(100_001 - 10)
    expect(l1.get('other', Date.now())?.value).toBe('v')
  })

  it('a copy written after the invalidation is valid; scope, function and node dependencies work alike', () => {
    const l1 = new L1Memory(10, 60_000)
    l1.set('a', entry(['s:tenant:a', 'S:tenant:a', 'f:getSlots']))
    l1.dropDependency('f:getSlots')
    expect(l1.get('a', Date.now())).toBeUndefined()
    l1.set('a', entry(['s:tenant:a', 'S:tenant:a', 'f:getSlots'], 'again'))
    expect(l1.get('a', Date.now())?.value).toBe('again')
    l1.dropDependency('s:tenant:a')
    expect(l1.get('a', Date.now())).toBeUndefined()
  })

  it('forgets a dependency once no copy holds it, so its invalidations cost nothing', () => {
    const l1 = new L1Memory(10, 60_000)
    l1.set('a', entry(['t:x']))
    l1.set('b', entry(['t:x']))
    l1.delete('a')
    l1.set('b', entry([]))
    const clocks = (l1 as unknown as { clocks: Map<string, unknown> }).clocks
    expect(clocks.size).toBe(0)
  })

  it('evicts the oldest copy not read since the hand last passed (second chance)', () => {
    const l1 = new L1Memory(3, 60_000)
    for (const key of ['a', 'b', 'c']) l1.set(key, entry([]))
    l1.get('a', Date.now())
    l1.set('d', entry([]))
    expect([...l1.keys()].sort()).toEqual(['a', 'c', 'd'])
    l1.set('e', entry([]))
    expect([...l1.keys()].sort()).toEqual(['a', 'd', 'e'])
  })
})
