import { type ChildProcess, fork } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import {
  type FaultProxy,
  type RedisServer,
  type RedisSnapshot,
  startFaultProxy,
  startRedis,
} from '@cachesaga/testkit'
import { Redis } from 'ioredis'
import { type FaultKind, injectFault } from './fault-plan.js'
import type { Defect, FinalReads, NodeBatch, ReadRecord } from './records.js'
import { truthKey } from './records.js'
import type { NodeConfig } from './soak-node.js'
import {
  type Bounds,
  type CheckResult,
  checkCalls,
  checkFinalReads,
  checkStaleness,
  type FaultWindow,
  type NodeInvalidation,
  type Violation,
} from './staleness-checker.js'

export interface SoakOptions {
  durationMs: number
  nodes: number
  items: number
  readersPerNode: number
  writeEveryMs: number
  /** Faults to draw from; empty for a run without faults. */
  faults: readonly FaultKind[]
  /** A fault starts every `faultEveryMs[0]`..`[1]` ms after the previous one ended. */
  faultEveryMs: readonly [number, number]
  bounds: Bounds
  seed: number
  /** A mechanism switched off in every cache process (core's test-support faults), to show the soak catches it. */
  defect?: Defect
  log: (line: string) => void
}

export interface SoakReport extends CheckResult {
  options: SoakOptions
  tiers: { l1: number; l2: number; loader: number }
  invalidations: number
  invalidationsByKind: Record<string, number>
  failedInvalidationAttempts: number
  /** Invalidations that resolved before Redis accepted their bus message. */
  unpublished: number
  longestCallMs: { read: number; invalidate: number }
  faults: FaultWindow[]
  errors: Record<string, number>
}

const NODE_SCRIPT = fileURLToPath(new URL('./soak-node.ts', import.meta.url))

/** Starts the servers and the cache processes, runs traffic and faults for the duration, then judges every read. */
export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  let seed = options.seed
  const random = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648
    return seed / 2_147_483_648
  }
  const truth = await startRedis({ allowExternal: false })
  const cacheRedis: RedisServer = await startRedis({
    allowExternal: false,
    persistence: 'rdb',
    args: ['--enable-debug-command', 'local'],
  })
  // Snapshots every few seconds from the start of traffic; a rollback restarts from the one before the
  // latest, seconds old.
  const snapshots: RedisSnapshot[] = []
  const takeSnapshot = () => {
    cacheRedis.snapshot().then(
      (snapshot) => {
        snapshots.push(snapshot)
        if (snapshots.length > 2) snapshots.shift()
      },
      () => {},
    )
  }
  let snapshotter: NodeJS.Timeout | undefined
  const proxies: FaultProxy[] = []
  const children: ChildProcess[] = []
  const readsByNode = new Map<number, ReadRecord[]>()
  const invalidations: NodeInvalidation[] = []
  const errors: Record<string, number> = {}
  const hung: Array<{ node: number; what: string }> = []
  const finals: FinalReads[] = []
  const faults: FaultWindow[] = []
  try {
    const namespace = `soak-${randomUUID().slice(0, 8)}`
    for (let node = 0; node < options.nodes; node++) {
      const proxy = await startFaultProxy({ target: cacheRedis })
      proxies.push(proxy)
      const config: NodeConfig = {
        node,
        namespace,
        cacheUrl: proxy.url,
        truthUrl: truth.url,
        items: options.items,
        readers: options.readersPerNode,
        writeEveryMs: options.writeEveryMs,
        outageBoundMs: options.bounds.outageBoundMs,
        l1MaxAgeMs: options.bounds.l1MaxAgeMs,
        seed: options.seed * 31 + node,
        defect: options.defect,
      }
      const child = fork(NODE_SCRIPT, [], {
        execArgv: ['--import', 'tsx'],
        env: { ...process.env, SOAK_NODE: JSON.stringify(config) },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      })
      readsByNode.set(node, [])
      child.on('message', (message: NodeBatch | FinalReads | object) => {
        if ('reads' in message) {
          const reads = readsByNode.get(message.node)!
          for (const read of message.reads) reads.push(read)
          for (const invalidation of message.invalidations)
            invalidations.push({ ...invalidation, node: message.node })
          for (const [operation, count] of Object.entries(message.errors)) {
            errors[`node ${message.node} ${operation}`] = count
          }
          for (const what of message.hung) hung.push({ node: message.node, what })
        } else if ('versions' in message) {
          finals.push(message)
        }
      })
      children.push(child)
    }
    await Promise.all(children.map((child) => waitForMessage(child, 'ready', 30_000)))
    options.log(`soak: ${options.nodes} processes ready on namespace ${namespace}`)
    if (options.faults.includes('rollback')) {
      takeSnapshot()
      snapshotter = setInterval(takeSnapshot, 2_000)
    }

    const deadline = Date.now() + options.durationMs
    // Faults are drawn like cards from a shuffled deck of every kind asked for: each kind comes once before any
    // comes again, so a short run still sees all of them.
    let deck: FaultKind[] = []
    while (Date.now() < deadline) {
      const [min, max] = options.faultEveryMs
      await sleep(Math.min(deadline - Date.now(), min + random() * (max - min)))
      if (options.faults.length === 0 || Date.now() >= deadline) continue
      if (deck.length === 0) deck = shuffled(options.faults, random)
      const kind = deck.pop()!
      const fault = await injectFault(
        kind,
        { redis: cacheRedis, proxies, olderSnapshot: () => snapshots[0] },
        random,
      )
      faults.push(fault)
      options.log(
        `fault ${kind}${fault.node === undefined ? '' : ` on node ${fault.node}`}: ${Math.round(fault.end - fault.start)} ms`,
      )
    }

    options.log('soak: stopping traffic')
    for (const child of children) child.send({ stop: true })
    await Promise.all(children.map((child) => waitForMessage(child, 'stopped', 60_000)))
    options.log('soak: traffic stopped; final reads once the bounds have run out')
    // Let every bound run out before the final reads: what is still stale then is stuck.
    await sleep(options.bounds.outageBoundMs + options.bounds.slackMs)
    for (const child of children) child.send({ final: true })
    await Promise.all(children.map((child) => once(child, 'exit')))
    const truthClient = new Redis(truth.url)
    const truthVersions = (
      await truthClient.mget(Array.from({ length: options.items }, (_, item) => truthKey(item)))
    ).map((value) => Number(value ?? 0))
    truthClient.disconnect()

    const result = checkStaleness(readsByNode, invalidations, faults, options.bounds)
    const violations: Violation[] = [
      ...result.violations,
      ...checkFinalReads(finals, truthVersions),
      ...checkCalls(readsByNode, invalidations, hung, options.bounds),
    ]
    if (finals.length !== options.nodes) {
      throw new Error(`only ${finals.length} of ${options.nodes} processes answered the final reads`)
    }
    const tiers = { l1: 0, l2: 0, loader: 0 }
    const longestCallMs = { read: 0, invalidate: 0 }
    for (const reads of readsByNode.values()) {
      for (const read of reads) {
        tiers[(['l1', 'l2', 'loader'] as const)[read[4]]]++
        longestCallMs.read = Math.max(longestCallMs.read, read[3] - read[2])
      }
    }
    const invalidationsByKind: Record<string, number> = {}
    let failedInvalidationAttempts = 0
    let unpublished = 0
    for (const invalidation of invalidations) {
      invalidationsByKind[invalidation.kind] = (invalidationsByKind[invalidation.kind] ?? 0) + 1
      failedInvalidationAttempts += invalidation.failedAttempts
      if (!invalidation.published) unpublished++
      longestCallMs.invalidate = Math.max(longestCallMs.invalidate, invalidation.slowestCallMs)
    }
    return {
      ...result,
      violations,
      options,
      tiers,
      invalidations: invalidations.length,
      invalidationsByKind,
      failedInvalidationAttempts,
      unpublished,
      longestCallMs,
      faults,
      errors,
    }
  } finally {
    clearInterval(snapshotter)
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL')
    for (const proxy of proxies) await proxy.close()
    await cacheRedis.stop()
    await truth.stop()
  }
}

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const deck = [...items]
  for (let i = deck.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[deck[i], deck[j]] = [deck[j]!, deck[i]!]
  }
  return deck
}

function waitForMessage(child: ChildProcess, key: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`a soak process did not say '${key}' within ${timeoutMs} ms`)),
      timeoutMs,
    )
    const onExit = (code: number | null) => {
      clearTimeout(timer)
      reject(new Error(`a soak process exited with ${code} before saying '${key}'`))
    }
    child.once('exit', onExit)
    child.on('message', function listener(message: object) {
      if (key in message) {
        clearTimeout(timer)
        child.off('message', listener)
        child.off('exit', onExit)
        resolve()
      }
    })
  })
}
