import { type RedisServer, startRedis } from '@cachesaga/testkit'
import fc from 'fast-check'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Cache, createCache, type EntryOptions, type InvalidationTarget } from '../index.js'
import { eventually, type Gate, gate } from '../test-support/gates.js'
import { freshNamespace } from '../test-support/namespaces.js'

/*
 * The freshness guarantee as a property over 3 instances on a real Redis. A scenario is a random
 * interleaving of reads (whose loaders read the database when they start and then block), writes
 * (database update, then `invalidate` through one of the strategies that covers the key, awaited)
 * and releases of blocked loaders, so slow loaders that read old data routinely try to fill after
 * an invalidation resolved. Each run executes many scenarios at once (disjoint keys, tags, scopes,
 * patterns and function names) to amortise Redis round trips.
 *
 * Checked: a read that starts on an instance after an invalidation resolved there never answers an
 * older version; once the bus is quiet, every instance answers the latest version of every key.
 */
const INSTANCES = 3
const KEYS = 4
const SCENARIOS_PER_RUN = 50
const RUNS = Number(process.env.CACHESAGA_FC_RUNS ?? 200)
const SEED = process.env.CACHESAGA_FC_SEED === undefined ? undefined : Number(process.env.CACHESAGA_FC_SEED)
const PATH = process.env.CACHESAGA_FC_PATH
const TEST_FILE = 'src/invalidation/freshness.property.test.ts'

type Action =
  | { kind: 'read'; instance: number; key: number }
  | { kind: 'write'; instance: number; key: number; via: number }
  | { kind: 'release'; pick: number }

const action: fc.Arbitrary<Action> = fc.oneof(
  fc.record({ kind: fc.constant('read' as const), instance: fc.nat(INSTANCES - 1), key: fc.nat(KEYS - 1) }),
  fc.record({
    kind: fc.constant('write' as const),
    instance: fc.nat(INSTANCES - 1),
    key: fc.nat(KEYS - 1),
    via: fc.nat(6),
  }),
  fc.record({ kind: fc.constant('release' as const), pick: fc.nat(7) }),
)
const scenario = fc.array(action, { minLength: 3, maxLength: 8 })

let server: RedisServer
let admin: Redis
let caches: Cache[]
let run = 0

beforeAll(async () => {
  // A private server: each run ends with FLUSHALL so pattern scans only walk the current run's keys.
  server = await startRedis({ allowExternal: false })
  admin = new Redis(server.url)
  const namespace = freshNamespace('property')
  caches = Array.from({ length: INSTANCES }, () =>
    createCache({ namespace, redis: server.url, l1: { maxEntries: 2_000 }, l2: { timeout: 2_000 } }),
  )
  await Promise.all(caches.map((cache) => cache.ready()))
})
afterAll(async () => {
  await Promise.all(caches.map((cache) => cache.close()))
  admin.disconnect()
  await server.stop()
})

interface BlockedLoader {
  instance: number
  key: number
  mayReturn: Gate
  read: Promise<void>
}

/** One scenario's world: four keys (the fourth is a cached function), their database versions, and what covers each. */
class Scenario {
  readonly db = Array<number>(KEYS).fill(0)
  /** Per instance and key: the highest version whose invalidation resolved on that instance. */
  readonly resolved = Array.from({ length: INSTANCES }, () => Array<number>(KEYS).fill(0))
  readonly violations: string[] = []
  /** Keys this scenario read or wrote: the only ones that can be cached. */
  readonly touched = new Set<number>()
  private readonly blocked: BlockedLoader[] = []
  private readonly reads: Array<Promise<void>> = []
  private readonly functions: Array<(key: number) => Promise<number>>
  /** How the next loader returns the version it read; set right before each read. */
  private loaderReturn: (version: number) => Promise<number> = async (version) => version

  constructor(readonly p: string) {
    this.functions = caches.map((cache) =>
      cache.wrap((key: number) => this.loaderReturn(this.db[key]!), {
        name: `${p}:fn`,
        tags: [`${p}:t1`],
        scope: `tenant:${p}/b:1`,
      }),
    )
  }

  private name(key: number): string {
    return `${this.p}:k${key}`
  }

  private options(key: number): EntryOptions {
    return {
      tags: [`${this.p}:t${key % 2}`],
      scope: key === 2 ? `tenant:${this.p}` : `tenant:${this.p}/b:${key}`,
    }
  }

  /** Every target that covers `key`; a write picks one. */
  private targets(key: number): InvalidationTarget[] {
    const p = this.p
    if (key === 3) {
      return [
        { queries: [{ name: `${p}:fn` }] },
        { queries: [{ name: `${p}:fn`, args: [3] }] },
        { tags: [`${p}:t1`] },
        { scopes: [`tenant:${p}`] },
        { scopes: [{ scope: `tenant:${p}/b:1`, descendants: false }] },
        { patterns: [`fn:${p}:fn:*`] },
      ]
    }
    const path = key === 2 ? `tenant:${p}` : `tenant:${p}/b:${key}`
    return [
      { keys: [this.name(key)] },
      { tags: [`${p}:t${key % 2}`] },
      { scopes: [`tenant:${p}`] },
      { scopes: [{ scope: path, descendants: false }] },
      { patterns: [this.name(key)] },
      { patterns: [`${p}:k*`] },
      { patterns: [`${p}:k?`] },
    ]
  }

  private read(instance: number, key: number): Promise<number> {
    if (key === 3) return this.functions[instance]!(3)
    return caches[instance]!.getOrSet(
      this.name(key),
      () => this.loaderReturn(this.db[key]!),
      this.options(key),
    )
  }

  async apply(step: Action): Promise<void> {
    if (step.kind === 'release') {
      this.blocked.splice(step.pick % Math.max(1, this.blocked.length), 1)[0]?.mayReturn.open()
      return
    }
    this.touched.add(step.key)
    if (step.kind === 'write') {
      const version = ++this.db[step.key]!
      const targets = this.targets(step.key)
      await caches[step.instance]!.invalidate(targets[step.via % targets.length]!)
      const seen = this.resolved[step.instance]!
      seen[step.key] = Math.max(seen[step.key]!, version)
      return
    }
    // A second read of a key whose loader is blocked on the same instance would join that flight
    // and wait for a release that comes later: let the blocked one finish first.
    const same = this.blocked.findIndex((b) => b.instance === step.instance && b.key === step.key)
    if (same !== -1) {
      const [earlier] = this.blocked.splice(same, 1)
      earlier!.mayReturn.open()
      await earlier!.read
    }
    const atLeast = this.resolved[step.instance]![step.key]!
    const loaderStarted = gate()
    const mayReturn = gate()
    this.loaderReturn = async (version) => {
      loaderStarted.open()
      await mayReturn.promise
      return version
    }
    const read = this.read(step.instance, step.key).then((answer) => {
      if (answer < atLeast) {
        this.violations.push(
          `${this.p}: instance ${step.instance} read key ${step.key} version ${answer} after the invalidation of version ${atLeast} resolved there`,
        )
      }
    })
    this.reads.push(read)
    // Either the loader started (it has read the database and now blocks) or a tier answered.
    await Promise.race([loaderStarted.promise, read])
    this.blocked.push({ instance: step.instance, key: step.key, mayReturn, read })
  }

  async finish(): Promise<void> {
    for (const loader of this.blocked.splice(0)) loader.mayReturn.open()
    await Promise.all(this.reads)
  }

  /** After the bus is quiet every instance must answer the latest version. */
  async checkSettled(): Promise<void> {
    this.loaderReturn = async (version) => version
    const reads: Array<Promise<void>> = []
    for (let instance = 0; instance < INSTANCES; instance++) {
      for (const key of this.touched) {
        reads.push(
          this.read(instance, key).then((answer) => {
            if (answer !== this.db[key]) {
              this.violations.push(
                `${this.p}: settled instance ${instance} answers key ${key} version ${answer}, database has ${this.db[key]}`,
              )
            }
          }),
        )
      }
    }
    await Promise.all(reads)
  }
}

async function busQuiet(): Promise<void> {
  await eventually(() => {
    const stats = caches.map((cache) => cache.stats().bus)
    const published = stats.reduce((sum, s) => sum + s.published, 0)
    return stats.every((s) => s.received >= published - s.published)
  }, 'every bus message delivered')
}

describe('freshness guarantee (property, real Redis, 3 instances)', () => {
  it(`no stale read after an invalidation resolves, over ${RUNS * SCENARIOS_PER_RUN} interleavings`, async () => {
    let interleavings = 0
    const property = fc.asyncProperty(
      fc.array(scenario, { minLength: SCENARIOS_PER_RUN, maxLength: SCENARIOS_PER_RUN }),
      async (plans) => {
        run++
        const scenarios = plans.map((_, i) => new Scenario(`r${run}s${i}`))
        await Promise.all(
          plans.map(async (steps, i) => {
            for (const step of steps) await scenarios[i]!.apply(step)
            await scenarios[i]!.finish()
          }),
        )
        await busQuiet()
        await Promise.all(scenarios.map((sc) => sc.checkSettled()))
        await admin.flushall()
        interleavings += plans.length
        const violations = scenarios.flatMap((sc) => sc.violations)
        if (violations.length > 0) throw new Error(violations.slice(0, 5).join('\n'))
      },
    )
    const result = await fc.check(property, {
      numRuns: RUNS,
      endOnFailure: true,
      ...(SEED === undefined ? {} : { seed: SEED }),
      ...(PATH === undefined ? {} : { path: PATH }),
    })
    if (result.failed) {
      const replay = `CACHESAGA_FC_SEED=${result.seed} CACHESAGA_FC_PATH=${result.counterexamplePath} pnpm --filter @cachesaga/core exec vitest run ${TEST_FILE}`
      console.error(`freshness property failed (seed ${result.seed})\nreplay: ${replay}`)
      const cause =
        result.errorInstance instanceof Error ? result.errorInstance.message : String(result.errorInstance)
      throw new Error(`${cause}\nreplay: ${replay}`)
    }
    // A replay (CACHESAGA_FC_PATH) starts from the recorded case and may run fewer.
    if (PATH === undefined) expect(interleavings).toBeGreaterThanOrEqual(RUNS * SCENARIOS_PER_RUN)
  }, 240_000)
})
