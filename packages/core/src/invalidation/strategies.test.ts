import { describe, expect, it, vi } from 'vitest'
import { type Cache, createCache, InvalidationError } from '../index.js'
import { freshNamespace } from '../test-support/namespaces.js'
import { useTestRedis } from '../test-support/test-redis.js'

const redis = useTestRedis({ allowExternal: false })

const cache = redis.cache

/** Fills `keys` (each with its options) and returns a checker of which are still cached in L1 or L2. */
async function filled(c: Cache, entries: Record<string, Parameters<Cache['getOrSet']>[2]>) {
  for (const [key, options] of Object.entries(entries)) await c.getOrSet(key, () => `cached ${key}`, options)
  return async (): Promise<string[]> => {
    const still: string[] = []
    for (const [key, options] of Object.entries(entries)) {
      if ((await c.getOrSet(key, () => 'reloaded', options)) === `cached ${key}`) still.push(key)
    }
    return still
  }
}

async function storedKeys(): Promise<string[]> {
  const prefix = `cs:{${redis.namespace}}:e:`
  const [, keys] = await redis.admin.scan('0', 'MATCH', `${prefix}*`, 'COUNT', 10_000)
  return keys.map((key) => key.slice(prefix.length)).sort()
}

describe('one entry point', () => {
  it('invalidate({}) is an error, not a full clear', async () => {
    const c = await cache()
    const cached = await filled(c, { a: {} })
    await expect(c.invalidate({})).rejects.toMatchObject({ code: 'CS_ERR_INVALID_TARGET' })
    await expect(c.invalidate({ keys: [], tags: [] })).rejects.toMatchObject({
      code: 'CS_ERR_INVALID_TARGET',
    })
    expect(await cached()).toEqual(['a'])
  })
})

describe('keys', () => {
  it('removes the keys from L2 and L1 and reports what it did', async () => {
    const c = await cache()
    const cached = await filled(c, { a: {}, b: {}, c: {} })
    const report = await c.invalidate({ keys: ['a', 'b', 'never-cached'] })
    expect(report).toMatchObject({ ok: true, removed: 2, published: true, errors: [] })
    expect(report.counts.keys).toBe(2)
    expect(report.unmatched).toEqual([{ kind: 'keys', target: 'never-cached' }])
    expect(await storedKeys()).toEqual(['c'])
    expect(await cached()).toEqual(['c'])
  })
})

describe('tags', () => {
  it('one O(1) bump invalidates every tagged entry, in L2 and L1, and nothing else', async () => {
    const c = await cache()
    const cached = await filled(c, {
      'slots:7:mon': { tags: ['staff:7'] },
      'slots:7:tue': { tags: ['staff:7', 'service:2'] },
      'slots:8:mon': { tags: ['staff:8'] },
    })
    const report = await c.invalidate({ tags: ['staff:7'] })
    expect(report.counts.tags).toBe(1)
    expect(report.removed).toBe(0) // nothing is scanned or deleted: the entries are now invalid
    expect(await cached()).toEqual(['slots:8:mon'])
  })

  it('an evicted tag counter never reads as "never invalidated"', async () => {
    const c = await cache({ l1: { maxAge: 1 } })
    const cached = await filled(c, { a: { tags: ['t'] } })
    await new Promise((resolve) => setTimeout(resolve, 5))
    await redis.admin.del(`cs:{${redis.namespace}}:g:t:t`)
    expect(await cached()).toEqual([])
  })
})

describe('patterns', () => {
  it('removes matching keys with SCAN/UNLINK and keeps the rest', async () => {
    const c = await cache()
    const cached = await filled(c, {
      'patch:1': {},
      'patch:2': {},
      'ghost:session:9': {},
      'ghost:other': {},
      keep: {},
    })
    const report = await c.invalidate({ patterns: ['patch:*', 'ghost:session:*'] })
    expect(report.removed).toBe(3)
    expect(report.patterns.map((p) => [p.pattern, p.matched])).toEqual([
      ['patch:*', 2],
      ['ghost:session:*', 1],
    ])
    expect(await storedKeys()).toEqual(['ghost:other', 'keep'])
    expect(await cached()).toEqual(['ghost:other', 'keep'])
  })

  it('treats glob metacharacters other than * and ? as literals', async () => {
    const c = await cache()
    const cached = await filled(c, { 'x[ab]y': {}, xay: {}, 'a\\b': {}, '{tag}:1': {} })
    await c.invalidate({ patterns: ['x[ab]y', '{tag}:*'] })
    expect(await cached()).toEqual(['xay', 'a\\b'])
  })

  it('refuses a match-all pattern without { all: true } and deletes nothing', async () => {
    const c = await cache()
    const cached = await filled(c, { a: {}, b: {} })
    for (const pattern of ['*', '', '**', '?*']) {
      await expect(c.invalidate({ patterns: [pattern] })).rejects.toMatchObject({
        code: 'CS_ERR_MATCH_ALL_REFUSED',
        pattern,
      })
    }
    // Even combined with valid targets: nothing is touched when one item is refused.
    await expect(c.invalidate({ keys: ['a'], patterns: ['*'] })).rejects.toMatchObject({
      code: 'CS_ERR_MATCH_ALL_REFUSED',
    })
    expect(await cached()).toEqual(['a', 'b'])
    const report = await c.invalidate({ patterns: ['*'] }, { all: true })
    expect(report.removed).toBe(2)
    expect(await cached()).toEqual([])
  })

  it('a dry run returns the count and a sample and changes nothing', async () => {
    const c = await cache()
    const entries = Object.fromEntries(Array.from({ length: 25 }, (_, i) => [`patch:${i}`, {}]))
    const cached = await filled(c, { ...entries, other: {} })
    const report = await c.invalidate({ patterns: ['patch:*'] }, { dryRun: true })
    expect(report.dryRun).toBe(true)
    expect(report.removed).toBe(0)
    expect(report.patterns[0]!.matched).toBe(25)
    expect(report.patterns[0]!.sample).toHaveLength(10)
    for (const key of report.patterns[0]!.sample) expect(key).toMatch(/^patch:\d+$/)
    expect((await cached()).length).toBe(26)
  })
})

describe('pattern progress', () => {
  it('onProgress reports each SCAN page of a large keyspace, ending with every match', async () => {
    const c = await cache()
    const pipeline = redis.admin.pipeline()
    for (let i = 0; i < 1_200; i++) pipeline.set(`cs:{${redis.namespace}}:e:slot:${i}`, 'x')
    for (let i = 0; i < 300; i++) pipeline.set(`cs:{${redis.namespace}}:e:other:${i}`, 'x')
    await pipeline.exec()
    const seen: { pattern: string; scanned: number; matched: number }[] = []
    const report = await c.invalidate({ patterns: ['slot:*'] }, { onProgress: (p) => seen.push({ ...p }) })
    expect(report.removed).toBe(1_200)
    expect(seen.length).toBeGreaterThanOrEqual(3)
    expect(seen.every((p) => p.pattern === 'slot:*')).toBe(true)
    for (let i = 1; i < seen.length; i++) {
      expect(seen[i]!.scanned).toBeGreaterThan(seen[i - 1]!.scanned)
      expect(seen[i]!.matched).toBeGreaterThanOrEqual(seen[i - 1]!.matched)
    }
    expect(seen.at(-1)!.matched).toBe(1_200)
  })
})

describe('scopes', () => {
  const levels = { scopeLevels: ['tenant', 'branch', 'staff'] }
  const tree = {
    tenant: { scope: 'tenant:acme' },
    branch3: { scope: 'tenant:acme/branch:3' },
    staff7: { scope: 'tenant:acme/branch:3/staff:7' },
    branch4: { scope: 'tenant:acme/branch:4' },
  }

  it('invalidating a scope invalidates everything beneath it in O(1), and not its siblings or ancestors', async () => {
    const c = await cache(levels)
    const cached = await filled(c, tree)
    const report = await c.invalidate({ scopes: ['tenant:acme/branch:3'] })
    expect(report.counts.scopes).toBe(1)
    expect(report.removed).toBe(0)
    expect(await cached()).toEqual(['tenant', 'branch4'])
  })

  it('descendants: false limits it to entries written at the node itself', async () => {
    const c = await cache(levels)
    const cached = await filled(c, tree)
    await c.invalidate({ scopes: [{ scope: 'tenant:acme/branch:3', descendants: false }] })
    expect(await cached()).toEqual(['tenant', 'staff7', 'branch4'])
  })

  it('scope paths are checked against the declared levels', async () => {
    const c = await cache(levels)
    await expect(c.getOrSet('k', () => 1, { scope: 'branch:3' })).rejects.toThrow(
      /^options\.scope: segment 1/,
    )
    await expect(c.invalidate({ scopes: ['tenant:acme/staff:7'] })).rejects.toThrow(
      /^target\.scopes\.0: segment 2/,
    )
    await expect(c.invalidate({ scopes: ['tenant:a/branch:1/staff:2/x:3'] })).rejects.toThrow(/deeper than/)
    await expect(c.invalidate({ scopes: ['tenant:acme//x'] })).rejects.toThrow(/non-empty segments/)
  })

  it("with a tenant configured, one tenant's invalidation never reaches another's entries", async () => {
    const shared = freshNamespace('tenants')
    const acme = redis.track(createCache({ namespace: shared, tenant: 'acme', redis: redis.server.url }))
    const globex = redis.track(createCache({ namespace: shared, tenant: 'globex', redis: redis.server.url }))
    await Promise.all([acme.ready(), globex.ready()])
    await acme.getOrSet('slots:1', () => 'acme', { tags: ['staff:7'] })
    await globex.getOrSet('slots:1', () => 'globex', { tags: ['staff:7'] })
    await acme.invalidate({ keys: ['slots:1'], tags: ['staff:7'], patterns: ['*'] }, { all: true })
    await acme.clear({ token: await acme.requestClearToken() })
    expect(await acme.getOrSet('slots:1', () => 'acme reloaded')).toBe('acme reloaded')
    expect(await globex.getOrSet('slots:1', () => 'globex reloaded', { tags: ['staff:7'] })).toBe('globex')
  })
})

describe('cached functions', () => {
  it('wrap memoizes by name and arguments; different arguments are separate entries', async () => {
    const c = await cache()
    const calls: unknown[] = []
    const getAvailability = c.wrap(
      async (staff: number, day: string) => {
        calls.push([staff, day])
        return `${staff}@${day}`
      },
      { name: 'getAvailability', ttl: '1m' },
    )
    expect(await getAvailability(7, 'mon')).toBe('7@mon')
    expect(await getAvailability(7, 'mon')).toBe('7@mon')
    expect(await getAvailability(7, 'tue')).toBe('7@tue')
    expect(calls).toEqual([
      [7, 'mon'],
      [7, 'tue'],
    ])
  })

  it('{ name } clears every call of exactly that name; { name, args } clears one call', async () => {
    const c = await cache()
    let version = 0
    const getTrack = c.wrap(async (id: number) => `track ${id} v${version}`, { name: 'get_track' })
    const getAllTracks = c.wrap(async () => `all v${version}`, { name: 'get_all_tracks' })
    await getTrack(1)
    await getTrack(2)
    await getAllTracks()
    version = 1
    await c.invalidate({ queries: [{ name: 'get_track', args: [1] }] })
    expect([await getTrack(1), await getTrack(2), await getAllTracks()]).toEqual([
      'track 1 v1',
      'track 2 v0',
      'all v0',
    ])
    version = 2
    await c.invalidate({ queries: [{ name: 'get_track' }] })
    expect([await getTrack(1), await getTrack(2), await getAllTracks()]).toEqual([
      'track 1 v2',
      'track 2 v2',
      'all v0',
    ])
  })

  it('argument objects hash by content, not key order', async () => {
    const c = await cache()
    let calls = 0
    const search = c.wrap(async (_query: Record<string, unknown>) => ++calls, { name: 'search' })
    await search({ staff: 7, day: 'mon' })
    expect(await search({ day: 'mon', staff: 7 })).toBe(1)
  })
})

describe('emergency clear', () => {
  it('needs a fresh single-use token; without one it deletes nothing and says why', async () => {
    const c = await cache()
    const cached = await filled(c, { a: {}, b: {} })
    await expect(c.clear({ token: '' })).rejects.toThrow(/token .*required/)
    await expect(c.clear({ token: 'guess' })).rejects.toThrow(/unknown token/)
    expect(await cached()).toEqual(['a', 'b'])
    const token = await c.requestClearToken()
    const report = await c.clear({ token })
    expect(report.ok).toBe(true)
    expect(report.removed).toBe(2)
    expect(await cached()).toEqual([])
    await expect(c.clear({ token })).rejects.toMatchObject({ code: 'CS_ERR_CLEAR_TOKEN' })
  })
})

describe('retries and an honest report', () => {
  it('rides out a short Redis pause by retrying', async () => {
    const c = await cache({ l2: { timeout: 50 } })
    c.on('error', () => {})
    const cached = await filled(c, { a: { tags: ['t'] } })
    redis.server.pause()
    setTimeout(() => redis.server.resume(), 60)
    const report = await c.invalidate({ tags: ['t'] })
    expect(report.ok).toBe(true)
    expect(await cached()).toEqual([])
  })

  it('when Redis stays down the promise rejects with the report, and local L1 is still dropped', async () => {
    const c = await cache({ l2: { timeout: 50 } })
    c.on('error', () => {})
    await filled(c, { a: {}, b: {} })
    redis.server.pause()
    try {
      const failure = await c
        .invalidate({ keys: ['a'], tags: ['t'], patterns: ['b*'] })
        .catch((error: unknown) => error)
      expect(failure).toBeInstanceOf(InvalidationError)
      const report = (failure as InvalidationError).report
      expect(report.ok).toBe(false)
      expect(report.errors.map((e) => e.kind).sort()).toEqual(['keys', 'patterns', 'tags'])
      expect(report.counts).toEqual({ keys: 0, tags: 0, patterns: 0, scopes: 0, queries: 0 })
    } finally {
      redis.server.resume()
    }
    expect(await c.getOrSet('a', () => 'reloaded')).toBe('reloaded')
  })
})

describe('a report that counts what matched', () => {
  const target = {
    keys: ['a', 'no-such-key'],
    tags: ['staff:7', 'staf:7'],
    scopes: ['tenant:acme', 'tenant:acne'],
    queries: [{ name: 'getSlots' }, { name: 'getSlot' }, { name: 'getSlots', args: [8] }],
    patterns: ['b*', 'zzz*'],
  }
  const unmatched = [
    { kind: 'keys', target: 'no-such-key' },
    { kind: 'queries', target: 'getSlots(1 args)' },
    { kind: 'tags', target: 'staf:7' },
    { kind: 'scopes', target: 'tenant:acne' },
    { kind: 'queries', target: 'getSlot' },
    { kind: 'patterns', target: 'zzz*' },
  ]
  const byTarget = (list: Array<{ kind: string; target: string }>) =>
    [...list].sort((x, y) => x.target.localeCompare(y.target))

  async function written(options: Partial<Parameters<typeof createCache>[0]> = {}) {
    const c = await cache(options)
    await filled(c, { a: { tags: ['staff:7'], scope: 'tenant:acme/branch:3' }, b: {} })
    const getSlots = c.wrap(async (staff: number) => [staff], { name: 'getSlots' })
    await getSlots(7)
    return c
  }

  it('a tag, scope or cached function never written with, a key without entry and a pattern without key count 0 and are named', async () => {
    const c = await written()
    const report = await c.invalidate(target)
    expect(report.ok).toBe(true)
    expect(report.counts).toEqual({ keys: 1, tags: 1, scopes: 1, queries: 1, patterns: 1 })
    expect(byTarget(report.unmatched)).toEqual(byTarget(unmatched))
  })

  it('a dry run says the same and changes nothing', async () => {
    const c = await written()
    const report = await c.invalidate(target, { dryRun: true })
    expect(report.counts).toEqual({ keys: 1, tags: 1, scopes: 1, queries: 1, patterns: 1 })
    expect(byTarget(report.unmatched)).toEqual(byTarget(unmatched))
    expect(await c.get('a', { tags: ['staff:7'], scope: 'tenant:acme/branch:3' })).toBe('cached a')
  })

  it('without Redis, what matched is what this L1 holds', async () => {
    const c = redis.track(createCache({ namespace: freshNamespace('memory'), redis: false }))
    await filled(c, { a: { tags: ['staff:7'] } })
    const report = await c.invalidate({ keys: ['a', 'b'], tags: ['staff:7', 'staff:8'] })
    expect(report.counts).toMatchObject({ keys: 1, tags: 1 })
    expect(report.unmatched).toEqual([
      { kind: 'keys', target: 'b' },
      { kind: 'tags', target: 'staff:8' },
    ])
  })
})

describe('one deadline per call', () => {
  it('against an unresponsive Redis, 1,000 keys, tags, a scope and a pattern fail together within the one timeout', async () => {
    const c = await cache({ l2: { timeout: 100 }, invalidate: { timeout: 600 } })
    c.on('error', () => {})
    await filled(c, { a: {} })
    const keys = Array.from({ length: 1_000 }, (_, i) => `k${i}`)
    redis.server.pause()
    let failure: unknown
    const started = performance.now()
    try {
      failure = await c
        .invalidate({ keys, tags: ['t1', 't2'], scopes: ['tenant:1'], patterns: ['a*'] })
        .catch((error: unknown) => error)
    } finally {
      redis.server.resume()
    }
    // One timeout for everything (a slow machine's timers may fire late), where each group and each batch of
    // 100 keys used to take its own retries one after the other: about 6 s here.
    expect(performance.now() - started).toBeLessThan(600 + 500)
    expect(failure).toBeInstanceOf(InvalidationError)
    expect(failure).toMatchObject({ code: 'CS_ERR_INVALIDATION_FAILED' })
    const report = (failure as InvalidationError).report
    expect(report.counts).toEqual({ keys: 0, tags: 0, patterns: 0, scopes: 0, queries: 0 })
    expect(report.errors).toHaveLength(1_004)
    expect(new Set(report.errors.map((e) => e.kind))).toEqual(new Set(['keys', 'tags', 'scopes', 'patterns']))
    // The bus message was not accepted in time: it waits in the retry queue and goes out once Redis is back.
    expect(report.published).toBe(false)
    await vi.waitFor(() => expect(c.stats().bus.published).toBe(1), { timeout: 5_000 })
    expect(c.stats().bus.queued).toBe(0)
  })

  it('a partly applied invalidation says what was applied and what was not', async () => {
    const user = `no-scan-${process.pid}`
    await redis.admin.call('ACL', 'SETUSER', user, 'on', '>secret', '~*', '&*', '+@all', '-scan')
    const c = redis.track(
      createCache({
        namespace: freshNamespace('partly'),
        redis: `redis://${user}:secret@127.0.0.1:${redis.server.port}`,
      }),
    )
    await c.ready()
    const cached = await filled(c, { a: {}, b: { tags: ['t'] }, c: {} })
    const failure = await c
      .invalidate({ keys: ['a'], tags: ['t'], patterns: ['c*'] })
      .catch((error: unknown) => error)
    expect(failure).toMatchObject({ code: 'CS_ERR_INVALIDATION_FAILED' })
    const report = (failure as InvalidationError).report
    expect(report).toMatchObject({ ok: false, removed: 1, published: true })
    expect(report.counts).toMatchObject({ keys: 1, tags: 1, patterns: 0 })
    expect(report.errors).toEqual([
      { kind: 'patterns', target: 'c*', error: { message: expect.stringMatching(/NOPERM/) } },
    ])
    expect(await cached()).toEqual(['c'])
  })

  it('a per-call timeout must be a positive duration', async () => {
    const c = await cache()
    await expect(c.invalidate({ keys: ['a'] }, { timeout: 0 })).rejects.toMatchObject({
      code: 'CS_ERR_INVALID_OPTION',
    })
  })
})

describe('bad input', () => {
  const nasty = [
    '*',
    '?',
    '[',
    ']',
    '\\',
    '{',
    '}',
    '{}',
    'a{b}c',
    '\n',
    'line\nbreak',
    '__proto__',
    'constructor',
    'x'.repeat(1024),
  ]

  it('odd but valid keys are cached and invalidated one by one, never in bulk', async () => {
    const c = await cache()
    const cached = await filled(c, Object.fromEntries(nasty.map((key) => [key, {}])))
    expect((await cached()).length).toBe(nasty.length)
    for (const key of nasty) {
      const report = await c.invalidate({ keys: [key] })
      expect(report.removed).toBe(1)
    }
    expect(await cached()).toEqual([])
  })

  it('patterns made of metacharacters match only themselves', async () => {
    const c = await cache()
    const cached = await filled(c, Object.fromEntries(nasty.map((key) => [key, {}])))
    const report = await c.invalidate({ patterns: ['[', '\\', '{}', '__proto__', '\n'] })
    expect(report.removed).toBe(5)
    expect((await cached()).sort()).toEqual(
      nasty.filter((k) => !['[', '\\', '{}', '__proto__', '\n'].includes(k)).sort(),
    )
  })

  it('invalid input fails with a clear error and deletes nothing', async () => {
    const c = await cache()
    const cached = await filled(c, { a: {} })
    const invalid: Array<[unknown, RegExp]> = [
      [{ keys: [''] }, /^target\.keys\.0: a key must not be empty/],
      [{ keys: ['x'.repeat(1025)] }, /^target\.keys\.0: a key is longer/],
      [{ keys: ['a\0b'] }, /^target\.keys\.0: a key must not contain NUL/],
      [{ tags: [42] }, /^target\.tags\.0: /],
      [{ patterns: ['a\0*'] }, /^target\.patterns\.0: /],
      [{ queries: [{ name: '' }] }, /^target\.queries\.0\.name: /],
      [{ scopes: [{ scope: 'a', deep: true }] }, /^target\.scopes\.0/],
      [{ keys: 'a' }, /^target\.keys: /],
      [{ everything: true }, /^target: /],
      [null, /^target: /],
    ]
    for (const [target, message] of invalid) {
      await expect(c.invalidate(target as never)).rejects.toThrow(message)
    }
    expect(await cached()).toEqual(['a'])
  })
})
