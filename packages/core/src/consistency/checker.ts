import { z } from 'zod'
import type { L1Copies } from '../bus/l1-probe.js'
import { type Duration, toMilliseconds } from '../config/duration.js'
import { CacheError } from '../errors.js'
import { toRegExp } from '../invalidation/glob.js'
import type { RedisProtocol } from '../redis/redis-protocol.js'
import { describeL1, type L1Copies as LocalCopies, valueHash } from './l1-copies.js'
import {
  type CheckLevel,
  type ConsistencyReport,
  type Inconsistency,
  type InconsistentTier,
  recommend,
} from './report.js'

/** How to load the source of truth for a family of keys. */
export interface Verifier {
  /** The keys it answers for: a glob as in `invalidate({ patterns })`, e.g. `'availability:*'`. */
  match: string
  /** The current value from the source of truth; compared with cached copies by its JSON. */
  load(key: string): unknown
  /** Heavy runs only: the value re-derived from an external provider, compared with `load`'s. */
  external?(key: string): unknown
}

/** Options of one `check` run. */
export interface CheckOptions {
  /** `light`: Redis entries; `medium`: also every live instance's L1; `heavy`: also `external` loaders. Default `'light'`. */
  level?: CheckLevel
  /** How many Redis entries to sample (SCAN) and how many L1 keys each instance adds. Default 100. */
  sample?: number
  /** Invalidate every key found inconsistent. Default false. */
  heal?: boolean
  /** How long a medium or heavy run waits for instances to answer the L1 probe. Default `'250ms'`. */
  probeTimeout?: Duration
}

const verifierSchema = z.object({
  match: z.string().min(1),
  load: z.custom<Verifier['load']>((value) => typeof value === 'function', 'expected a function'),
  external: z
    .custom<NonNullable<Verifier['external']>>((value) => typeof value === 'function', 'expected a function')
    .optional(),
})

const checkSchema = z
  .object({
    level: z.enum(['light', 'medium', 'heavy']).default('light'),
    sample: z.number().int().positive().default(100),
    heal: z.boolean().default(false),
    probeTimeout: z.union([z.number(), z.string()]).default(250),
  })
  .strict()

/** A copy observed during a run. */
interface Observation {
  key: string
  tier: InconsistentTier
  instance: string
  hash: string
  expiresAt: number
  /** The TTL it was written with (L1: l1.maxAge), to weigh how long it would still be served. */
  horizonMs: number
}

type Probe = (keys: readonly string[], sample: number, timeoutMs: number) => Promise<L1Copies[]>

/** What the checker reads: Redis entries, this instance's L1, and how values are written (to compare them). */
export interface CheckerParts {
  l2: Pick<RedisProtocol, 'sampleEntries' | 'read'> | undefined
  l1: LocalCopies
  instanceId: string
  /** A value as the serializer writes it: copies and sources are compared by a hash of this. */
  valueText(value: unknown): string
  /** Asks the other live instances for their L1 copies; undefined without Redis. */
  probe: Probe | undefined
  /** Invalidates keys found inconsistent (`heal`). */
  heal(keys: string[]): Promise<unknown>
}

/**
 * Samples cached copies, compares them with the source of truth, and reports which differ. A copy
 * that differs is looked at a second time (cache and source re-read) before it is reported, so a
 * write that lands during the run is not mistaken for an inconsistency.
 */
export class ConsistencyChecker {
  private readonly verifiers: { regex: RegExp; verifier: Verifier }[] = []
  private last: ConsistencyReport | undefined

  /** @internal created by the cache */
  constructor(private readonly parts: CheckerParts) {}

  /** Adds a verifier; a key is checked by the first registered verifier whose glob matches it. */
  register(verifier: Verifier): this {
    const parsed = verifierSchema.safeParse(verifier)
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!
      throw new CacheError('CS_ERR_INVALID_OPTION', `verifier.${issue.path.join('.')}: ${issue.message}`)
    }
    this.verifiers.push({ regex: toRegExp(verifier.match), verifier })
    return this
  }

  /** The report of the latest run, if any. */
  get lastReport(): ConsistencyReport | undefined {
    return this.last
  }

  async check(input: CheckOptions = {}): Promise<ConsistencyReport> {
    const parsed = checkSchema.safeParse(input)
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!
      throw new CacheError('CS_ERR_INVALID_OPTION', `options.${issue.path.join('.')}: ${issue.message}`)
    }
    const options = parsed.data
    const probeTimeoutMs = toMilliseconds(options.probeTimeout, 'options.probeTimeout')
    const from = Date.now()
    const sampled = await this.sampleL2(options.sample)
    const withL1 = options.level !== 'light'
    const first = await this.observe(sampled, withL1 ? options.sample : 0, withL1, probeTimeoutMs)
    const verified = first.filter((seen) => this.verifierOf(seen.key) !== undefined)
    const sources = await this.loadSources(verified.map((seen) => seen.key))
    const suspects = verified.filter((seen) => seen.hash !== sources.get(seen.key))

    // The second look: only copies that still differ from a freshly loaded source are reported.
    const inconsistencies: Inconsistency[] = []
    let weight = 0
    if (suspects.length > 0) {
      const again = await this.observe(unique(suspects.map((s) => s.key)), 0, withL1, probeTimeoutMs)
      const reloaded = await this.loadSources(again.map((seen) => seen.key))
      const now = Date.now()
      for (const suspect of suspects) {
        const still = again.find(
          (seen) =>
            seen.key === suspect.key && seen.tier === suspect.tier && seen.instance === suspect.instance,
        )
        if (still === undefined || still.hash === reloaded.get(still.key)) continue
        const servedForMs = Math.max(0, still.expiresAt - now)
        inconsistencies.push({ key: still.key, tier: still.tier, instance: still.instance, servedForMs })
        weight += 0.5 + 0.5 * Math.min(1, servedForMs / Math.max(1, still.horizonMs))
      }
    }
    let checked = verified.length
    if (options.level === 'heavy') {
      const drift = await this.compareExternal(unique(verified.map((seen) => seen.key)), sources)
      checked += drift.checked
      weight += drift.found.length
      inconsistencies.push(...drift.found)
    }

    const unverified = sampled.filter((key) => this.verifierOf(key) === undefined).length
    const healed = options.heal ? unique(inconsistencies.map((item) => item.key)) : []
    if (healed.length > 0) await this.parts.heal(healed)
    const report: ConsistencyReport = {
      level: options.level,
      window: { from, to: Date.now() },
      sampled: sampled.length,
      checked,
      unverified,
      consistencyPercent: checked === 0 ? 100 : round(100 * (1 - inconsistencies.length / checked)),
      stalenessScore: checked === 0 ? 0 : Math.min(100, round((100 * weight) / checked)),
      inconsistencies,
      recommendations: recommend(inconsistencies, unverified),
      healed,
    }
    this.last = report
    return report
  }

  private verifierOf(key: string): Verifier | undefined {
    return this.verifiers.find((entry) => entry.regex.test(key))?.verifier
  }

  private async sampleL2(limit: number): Promise<string[]> {
    const l2 = this.parts.l2
    if (l2 === undefined) return []
    return l2.sampleEntries(limit)
  }

  /** Fresh copies of `keys` in Redis and, with `withL1`, in every live instance's L1 (plus `l1Sample` keys each holds). */
  private async observe(
    keys: readonly string[],
    l1Sample: number,
    withL1: boolean,
    probeTimeoutMs: number,
  ): Promise<Observation[]> {
    const seen: Observation[] = []
    const l2 = this.parts.l2
    if (l2 !== undefined) {
      for (const key of keys) {
        const read = await l2.read(key, undefined, Date.now())
        if (read.status !== 'fresh' || read.entry === undefined) continue
        const { entry } = read
        seen.push({
          key,
          tier: 'l2',
          instance: 'redis',
          hash: valueHash(entry.data),
          expiresAt: entry.expiresAt,
          horizonMs: entry.expiresAt - entry.createdAt,
        })
      }
    }
    if (!withL1) return seen
    const answers: L1Copies[] = [
      {
        instance: this.parts.instanceId,
        copies: describeL1(this.parts.l1, keys, l1Sample, (value) => this.parts.valueText(value)),
      },
      ...((await this.parts.probe?.(keys, l1Sample, probeTimeoutMs)) ?? []),
    ]
    for (const answer of answers) {
      for (const [key, copy] of Object.entries(answer.copies)) {
        if (copy === null) continue
        seen.push({
          key,
          tier: 'l1',
          instance: answer.instance,
          hash: copy.hash,
          expiresAt: copy.expiresAt,
          horizonMs: this.parts.l1.maxAgeMs,
        })
      }
    }
    return seen
  }

  private async loadSources(keys: readonly string[]): Promise<Map<string, string>> {
    const hashes = new Map<string, string>()
    for (const key of unique(keys)) {
      const verifier = this.verifierOf(key)
      if (verifier !== undefined) hashes.set(key, valueHash(this.parts.valueText(await verifier.load(key))))
    }
    return hashes
  }

  private async compareExternal(
    keys: readonly string[],
    sources: ReadonlyMap<string, string>,
  ): Promise<{ checked: number; found: Inconsistency[] }> {
    let checked = 0
    const found: Inconsistency[] = []
    for (const key of keys) {
      const external = this.verifierOf(key)?.external
      if (external === undefined) continue
      checked++
      if (valueHash(this.parts.valueText(await external(key))) !== sources.get(key))
        found.push({ key, tier: 'source', instance: 'external', servedForMs: 0 })
    }
    return { checked, found }
  }
}

function unique(keys: readonly string[]): string[] {
  return [...new Set(keys)]
}

function round(value: number): number {
  return Math.round(value * 100) / 100
}
