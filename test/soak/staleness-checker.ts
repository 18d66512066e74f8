import type { InvalidationRecord, ReadRecord } from './records.js'

/** A fault the soak injected, as the parent recorded it. */
export interface FaultWindow {
  kind: string
  /** The node it targeted, or undefined for the shared Redis (every node). */
  node: number | undefined
  start: number
  end: number
  /** A rollback: when the copy it restarted from was taken (what was invalidated before that stays invalidated). */
  restoredFrom?: number
}

/** Every way a read can be staler than the documented bounds allow. */
export type ViolationKind =
  /** The reading process had itself invalidated (and that call had resolved) before the read started. */
  | 'own-invalidation'
  /** Another process's invalidation resolved more than the bus bound before, with no fault near. */
  | 'past-bus-bound'
  /** Past `bus.outageBound` (plus scheduling slack) even with a fault near. */
  | 'past-outage-bound'
  /** Past `l1.maxAge`, which bounds every L1 copy whatever was lost (an unpublished invalidation's only bound). */
  | 'past-l1-max-age'
  /** After the faults stopped and the bounds passed, a process still returns an old version. */
  | 'stuck-at-end'
  /** A read or an `invalidate()` call took longer than the call bound, or never returned. */
  | 'slow-call'

export interface Bounds {
  /** How long a bus message may take to reach another process when nothing is wrong. */
  busBoundMs: number
  outageBoundMs: number
  l1MaxAgeMs: number
  /** Scheduling and timer slack on a busy machine, added to every bound. */
  slackMs: number
  /** After a Redis rollback, how long stale entries may be served until it is detected. */
  rollbackWindowMs: number
  /** The longest a read or an `invalidate()` call may take, whatever the fault. */
  callBoundMs: number
}

export interface Violation {
  kind: ViolationKind
  node: number
  item: number
  /** The version returned, and the version whose invalidation it ignored. */
  returned: number
  expected: number
  /** How long after that invalidation resolved the read started. */
  ageMs: number
  /** The process that invalidated (-1 for what is not about an invalidation). */
  invalidatedBy: number
  /** A slow call: what it was and how long it took (NaN: it never returned). */
  call?: { what: string; ms: number }
}

export interface NodeInvalidation extends InvalidationRecord {
  node: number
}

export interface CheckResult {
  reads: number
  staleReads: number
  violations: Violation[]
  /** Per (invalidation, other process): how long that process still returned the old version afterwards. */
  crossProcessStalenessMs: number[]
}

/**
 * Judges every read against every invalidation that resolved before the read began. A read returning
 * version v is stale when an invalidation of a version above v had resolved before it started; its age is
 * measured from the earliest such invalidation, the one it has ignored longest.
 */
export function checkStaleness(
  readsByNode: ReadonlyMap<number, readonly ReadRecord[]>,
  invalidations: readonly NodeInvalidation[],
  faults: readonly FaultWindow[],
  bounds: Bounds,
): CheckResult {
  const byItem = new Map<number, NodeInvalidation[]>()
  for (const invalidation of invalidations) {
    const list = byItem.get(invalidation.item) ?? []
    list.push(invalidation)
    byItem.set(invalidation.item, list)
  }
  // Per item, sorted by version: the first invalidation above v that resolved before t is found by a scan
  // over the (short) list of versions above v.
  for (const list of byItem.values()) list.sort((a, b) => a.version - b.version)

  const violations: Violation[] = []
  let reads = 0
  let staleReads = 0
  const windows = new Map<NodeInvalidation, Map<number, number>>()

  for (const [node, nodeReads] of readsByNode) {
    for (const [item, version, start] of nodeReads) {
      reads++
      const list = byItem.get(item)
      if (list === undefined) continue
      let ignored: NodeInvalidation | undefined
      for (let i = upperBound(list, version); i < list.length; i++) {
        const candidate = list[i]!
        if (
          candidate.resolvedAt < start &&
          (ignored === undefined || candidate.resolvedAt < ignored.resolvedAt)
        ) {
          ignored = candidate
        }
      }
      if (ignored === undefined) continue
      staleReads++
      const ageMs = start - ignored.resolvedAt
      if (ignored.node !== node) {
        const perNode = windows.get(ignored) ?? new Map<number, number>()
        windows.set(ignored, perNode)
        perNode.set(node, Math.max(perNode.get(node) ?? 0, ageMs))
      }
      const kind = judge(node, ignored, start, ageMs, faults, bounds)
      if (kind !== undefined) {
        violations.push({
          kind,
          node,
          item,
          returned: version,
          expected: ignored.version,
          ageMs,
          invalidatedBy: ignored.node,
        })
      }
    }
  }
  // Every other process reads every item many times a second, so each (invalidation, other process) pair
  // without a stale read is a zero window.
  const crossProcessStalenessMs: number[] = []
  for (const perNode of windows.values()) for (const ms of perNode.values()) crossProcessStalenessMs.push(ms)
  const pairs = invalidations.length * Math.max(0, readsByNode.size - 1)
  while (crossProcessStalenessMs.length < pairs) crossProcessStalenessMs.push(0)
  return { reads, staleReads, violations, crossProcessStalenessMs }
}

/** Which bound a stale read broke, or undefined when it is within them. */
function judge(
  node: number,
  ignored: NodeInvalidation,
  readStart: number,
  ageMs: number,
  faults: readonly FaultWindow[],
  bounds: Bounds,
): ViolationKind | undefined {
  const between = (fault: FaultWindow) =>
    fault.start <= readStart && fault.end + bounds.slackMs >= ignored.resolvedAt
  // A rollback brings old entries and old generations back together; until it is detected they still match.
  // It undoes only what was invalidated after the copy it restarted from was taken.
  const rollback = faults.find(
    (fault) =>
      fault.kind === 'rollback' &&
      ignored.resolvedAt >= (fault.restoredFrom ?? Number.NEGATIVE_INFINITY) - bounds.slackMs &&
      ignored.resolvedAt <= fault.end + bounds.slackMs &&
      readStart <= fault.end + bounds.rollbackWindowMs + bounds.slackMs,
  )
  if (rollback !== undefined) return undefined
  if (ageMs > bounds.l1MaxAgeMs + bounds.slackMs) return 'past-l1-max-age'
  if (ignored.node === node) return 'own-invalidation'
  // Redis had not accepted its bus message when the call resolved: only l1.maxAge bounds the others.
  if (!ignored.published) return undefined
  if (ageMs <= bounds.busBoundMs + bounds.slackMs) return undefined
  const faultNear = faults.some(
    (fault) =>
      between(fault) && (fault.node === undefined || fault.node === node || fault.node === ignored.node),
  )
  if (!faultNear) return 'past-bus-bound'
  return ageMs > bounds.outageBoundMs + bounds.slackMs ? 'past-outage-bound' : undefined
}

/** Reads and `invalidate()` calls longer than the call bound, and calls that never returned. */
export function checkCalls(
  readsByNode: ReadonlyMap<number, readonly ReadRecord[]>,
  invalidations: readonly NodeInvalidation[],
  hung: ReadonlyArray<{ node: number; what: string }>,
  bounds: Bounds,
): Violation[] {
  const limit = bounds.callBoundMs + bounds.slackMs
  const slow: Violation[] = []
  const add = (node: number, item: number, what: string, ms: number) =>
    slow.push({
      kind: 'slow-call',
      node,
      item,
      returned: -1,
      expected: -1,
      ageMs: Number.NaN,
      invalidatedBy: -1,
      call: { what, ms },
    })
  for (const [node, reads] of readsByNode) {
    for (const [item, , start, end] of reads) if (end - start > limit) add(node, item, 'read', end - start)
  }
  for (const invalidation of invalidations) {
    if (invalidation.slowestCallMs > limit)
      add(invalidation.node, invalidation.item, `invalidate ${invalidation.kind}`, invalidation.slowestCallMs)
  }
  for (const { node, what } of hung) add(node, -1, what, Number.NaN)
  return slow
}

/** Index of the first invalidation with a version above `version`. */
function upperBound(list: readonly NodeInvalidation[], version: number): number {
  let low = 0
  let high = list.length
  while (low < high) {
    const mid = (low + high) >> 1
    if (list[mid]!.version <= version) low = mid + 1
    else high = mid
  }
  return low
}

/** Final reads after the faults stopped: any version below the source of truth is stuck. */
export function checkFinalReads(
  finals: ReadonlyArray<{ node: number; versions: readonly number[] }>,
  truth: readonly number[],
): Violation[] {
  const stuck: Violation[] = []
  for (const { node, versions } of finals) {
    versions.forEach((version, item) => {
      const expected = truth[item] ?? 0
      if (version < expected) {
        stuck.push({
          kind: 'stuck-at-end',
          node,
          item,
          returned: version,
          expected,
          ageMs: Number.NaN,
          invalidatedBy: -1,
        })
      }
    })
  }
  return stuck
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
}
