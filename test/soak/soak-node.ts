// One cache process of the soak: readers with slow loaders and a writer that commits to the source of
// truth and then invalidates, reporting every read and invalidation to the parent over IPC.
// Run as: node --import tsx soak-node.ts (env SOAK_NODE = JSON of NodeConfig).
import { setTimeout as sleep } from 'node:timers/promises'
import { createCache, type InvalidationTarget } from '@cachesaga/core'
import { Redis } from 'ioredis'
// The deliberate defects of core's own tests: wrappers around parts of a built cache (types only at compile
// time, so the cache built from the package's dist is wrapped as it is).
import { injectFault } from '../../packages/core/src/test-support/faults.js'
import {
  type Defect,
  type FinalReads,
  INVALIDATION_KINDS,
  type InvalidationKind,
  type InvalidationRecord,
  itemKey,
  itemScope,
  itemTag,
  type NodeBatch,
  now,
  type ReadRecord,
  truthKey,
} from './records.js'

export interface NodeConfig {
  node: number
  namespace: string
  /** The cache's Redis, through this node's own fault proxy. */
  cacheUrl: string
  /** The source of truth: a Redis the soak never faults. */
  truthUrl: string
  items: number
  readers: number
  writeEveryMs: number
  outageBoundMs: number
  l1MaxAgeMs: number
  seed: number
  /** A mechanism switched off in this process, to show the soak catches it. */
  defect: Defect | undefined
}

const config = JSON.parse(process.env.SOAK_NODE ?? '{}') as NodeConfig
let seed = config.seed
/** A small seeded generator, so a run's choices can be replayed. */
function random(): number {
  seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648
  return seed / 2_147_483_648
}
const pick = (n: number) => Math.floor(random() * n)

const truth = new Redis(config.truthUrl, { maxRetriesPerRequest: 1 })
const cache = createCache({
  namespace: config.namespace,
  redis: config.cacheUrl,
  bus: { outageBound: config.outageBoundMs },
  l1: { maxAge: config.l1MaxAgeMs },
  ttl: '1h',
  refreshAhead: 0,
  snapshotEvery: false,
})
if (config.defect !== undefined)
  injectFault(cache as unknown as Parameters<typeof injectFault>[0], config.defect)
const errors: Record<string, number> = {}
let hung: string[] = []
cache.on('error', ({ operation }) => {
  errors[operation] = (errors[operation] ?? 0) + 1
})

let reads: ReadRecord[] = []
let invalidations: InvalidationRecord[] = []
let running = true
/** What each loop is waiting for right now, to name a call that hangs. */
const pending = new Set<string>()

function flush(): void {
  if (reads.length === 0 && invalidations.length === 0 && hung.length === 0) return
  const batch: NodeBatch = { node: config.node, reads, invalidations, errors: { ...errors }, hung }
  reads = []
  invalidations = []
  hung = []
  process.send?.(batch)
}

/** The loader reads the source of truth, slowly: slow loaders are what stale fills are made of. */
async function load(item: number): Promise<number> {
  const version = Number((await truth.get(truthKey(item))) ?? 0)
  await sleep(random() < 0.1 ? 20 + pick(60) : pick(5))
  return version
}

const TIER = { l1: 0, l2: 1, loader: 2 } as const

async function reader(): Promise<void> {
  while (running) {
    const item = pick(config.items)
    const start = now()
    const what = `read item ${item}`
    pending.add(what)
    try {
      const served = await cache.getOrSetWithInfo(itemKey(item), () => load(item), {
        tags: [itemTag(item)],
        scope: itemScope(item),
      })
      reads.push([item, served.value, start, now(), TIER[served.tier]])
    } catch (error) {
      const code = (error as { code?: string }).code ?? 'read'
      errors[code] = (errors[code] ?? 0) + 1
    } finally {
      pending.delete(what)
    }
    // Pacing: L1 hits resolve at once, and a reader that never yields starves the others.
    await sleep(pick(3))
  }
}

function targetOf(kind: InvalidationKind, item: number): InvalidationTarget {
  switch (kind) {
    case 'key':
      return { keys: [itemKey(item)] }
    case 'tag':
      return { tags: [itemTag(item)] }
    case 'pattern':
      return { patterns: [itemKey(item)] }
    case 'scope':
      return { scopes: [itemScope(item)] }
  }
}

async function writer(): Promise<void> {
  while (running) {
    await sleep(config.writeEveryMs / 2 + pick(config.writeEveryMs))
    if (!running) break
    const item = pick(config.items)
    const kind = INVALIDATION_KINDS[pick(INVALIDATION_KINDS.length)]!
    let version: number
    try {
      version = await truth.incr(truthKey(item))
    } catch {
      continue
    }
    const committedAt = now()
    // Like an application that must not leave a change un-invalidated: retry until it is applied.
    let failedAttempts = 0
    let slowestCallMs = 0
    const what = `invalidate ${kind} item ${item}`
    pending.add(what)
    for (;;) {
      const started = now()
      try {
        const report = await cache.invalidate(targetOf(kind, item))
        const resolvedAt = now()
        slowestCallMs = Math.max(slowestCallMs, resolvedAt - started)
        const published = report.published
        invalidations.push({
          item,
          version,
          kind,
          committedAt,
          resolvedAt,
          failedAttempts,
          published,
          slowestCallMs,
        })
        break
      } catch {
        slowestCallMs = Math.max(slowestCallMs, now() - started)
        failedAttempts++
        errors['invalidate-rejected'] = (errors['invalidate-rejected'] ?? 0) + 1
        if (!running) {
          // Traffic stopped and the change is still not invalidated: as bad as a call that hangs.
          hung.push(`${what}: still rejected after ${failedAttempts} calls when traffic stopped`)
          break
        }
        await sleep(100)
      }
    }
    pending.delete(what)
  }
}

process.on('message', async (message: { stop?: boolean; final?: boolean }) => {
  if (message.stop) {
    running = false
    // A loop still pending after the deadline means a cache call hangs: report what it was doing.
    const settled = await Promise.race([Promise.allSettled(loops).then(() => true), sleep(15_000, false)])
    if (!settled) hung = [...hung, ...pending]
    flush()
    process.send?.({ stopped: config.node })
  }
  if (message.final) {
    const versions: number[] = []
    for (let item = 0; item < config.items; item++) {
      versions.push(
        await cache.getOrSet(itemKey(item), () => load(item), {
          tags: [itemTag(item)],
          scope: itemScope(item),
        }),
      )
    }
    const answer: FinalReads = { node: config.node, versions }
    clearInterval(flusher)
    await cache.close()
    truth.disconnect()
    // The IPC channel keeps the process alive; leave once the answer is sent.
    process.send?.(answer, () => process.disconnect())
  }
})

await cache.ready()
const flusher = setInterval(flush, 100)
const loops = [writer(), ...Array.from({ length: config.readers }, () => reader())]
process.send?.({ ready: config.node })
