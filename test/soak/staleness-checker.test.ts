import { describe, expect, it } from 'vitest'
import type { ReadRecord } from './records.js'
import {
  type Bounds,
  checkCalls,
  checkFinalReads,
  checkStaleness,
  type FaultWindow,
  type NodeInvalidation,
} from './staleness-checker.js'

const bounds: Bounds = {
  busBoundMs: 100,
  outageBoundMs: 5_000,
  l1MaxAgeMs: 60_000,
  slackMs: 50,
  rollbackWindowMs: 1_000,
  callBoundMs: 2_000,
}

/** Item 0 moved to v2 by process `node`; the call resolved at t=1,000. */
const invalidation = (node: number, published = true): NodeInvalidation => ({
  node,
  item: 0,
  version: 2,
  kind: 'key',
  committedAt: 990,
  resolvedAt: 1_000,
  failedAttempts: 0,
  published,
  slowestCallMs: 10,
})
const readOfV1 = (start: number): ReadRecord => [0, 1, start, start + 1, 0]

function judge(
  readerNode: number,
  start: number,
  faults: FaultWindow[] = [],
  invalidatedBy = 0,
  published = true,
) {
  const reads = new Map<number, ReadRecord[]>([
    [0, []],
    [1, []],
  ])
  reads.get(readerNode)!.push(readOfV1(start))
  return checkStaleness(reads, [invalidation(invalidatedBy, published)], faults, bounds)
}

describe('the staleness checker', () => {
  it('does not judge a read that started before the invalidation resolved', () => {
    const result = judge(0, 999)
    expect(result.staleReads).toBe(0)
    expect(result.violations).toEqual([])
  })

  it('flags an old value in the process that had itself invalidated, however soon after', () => {
    expect(judge(0, 1_001).violations.map((v) => v.kind)).toEqual(['own-invalidation'])
  })

  it('allows another process the bus bound, and flags it past that with no fault near', () => {
    expect(judge(1, 1_100).violations).toEqual([])
    const late = judge(1, 1_200).violations
    expect(late).toMatchObject([
      { kind: 'past-bus-bound', node: 1, returned: 1, expected: 2, invalidatedBy: 0 },
    ])
    expect(late[0]!.ageMs).toBe(200)
  })

  it('allows the outage bound when a fault is near, and flags what outlives it', () => {
    const partition: FaultWindow = { kind: 'partition', node: 1, start: 500, end: 3_000 }
    expect(judge(1, 4_000, [partition]).violations).toEqual([])
    expect(judge(1, 6_100, [partition]).violations.map((v) => v.kind)).toEqual(['past-outage-bound'])
    // A fault on a third process is not near this pair.
    const elsewhere: FaultWindow = { ...partition, node: 2 }
    expect(judge(1, 4_000, [elsewhere]).violations.map((v) => v.kind)).toEqual(['past-bus-bound'])
  })

  it('excuses old values served within the rollback window, not after it', () => {
    const rollback: FaultWindow = { kind: 'rollback', node: undefined, start: 1_500, end: 2_000 }
    expect(judge(0, 2_500, [rollback]).violations).toEqual([])
    expect(judge(0, 3_100, [rollback]).violations.map((v) => v.kind)).toEqual(['own-invalidation'])
  })

  it('excuses a rollback only for invalidations it undid: those after the copy it restarted from', () => {
    const older = { kind: 'rollback', node: undefined, start: 1_500, end: 2_000, restoredFrom: 900 }
    expect(judge(0, 2_500, [older]).violations).toEqual([])
    const newer = { ...older, restoredFrom: 1_200 }
    expect(judge(0, 2_500, [newer]).violations.map((v) => v.kind)).toEqual(['own-invalidation'])
  })

  it('bounds the other processes by l1.maxAge alone for an invalidation resolved before its bus message was accepted', () => {
    expect(judge(1, 30_000, [], 0, false).violations).toEqual([])
    expect(judge(1, 61_100, [], 0, false).violations.map((v) => v.kind)).toEqual(['past-l1-max-age'])
    // The process that invalidated knows, whatever the bus did.
    expect(judge(0, 1_001, [], 0, false).violations.map((v) => v.kind)).toEqual(['own-invalidation'])
  })

  it('flags anything older than l1.maxAge whatever happened', () => {
    const pause: FaultWindow = { kind: 'pause', node: undefined, start: 900, end: 70_000 }
    expect(judge(1, 61_100, [pause]).violations.map((v) => v.kind)).toEqual(['past-l1-max-age'])
  })

  it('measures cross-process staleness per (invalidation, other process), zero where nothing was stale', () => {
    const reads = new Map<number, ReadRecord[]>([
      [0, [readOfV1(1_050)]],
      [1, [readOfV1(1_020), readOfV1(1_080), [0, 2, 1_090, 1_091, 1]]],
      [2, []],
    ])
    const result = checkStaleness(reads, [invalidation(0)], [], bounds)
    expect(result.reads).toBe(4)
    expect(result.staleReads).toBe(3)
    expect(result.crossProcessStalenessMs.sort((a, b) => a - b)).toEqual([0, 80])
  })

  it('calls a version below the source of truth at the end stuck', () => {
    const stuck = checkFinalReads(
      [
        { node: 0, versions: [3, 5] },
        { node: 1, versions: [3, 4] },
      ],
      [3, 5],
    )
    expect(stuck).toMatchObject([{ kind: 'stuck-at-end', node: 1, item: 1, returned: 4, expected: 5 }])
  })

  it('flags a read or an invalidate() call longer than the call bound, and a call that never returned', () => {
    const reads = new Map<number, ReadRecord[]>([
      [
        0,
        [
          [0, 1, 0, 2_000, 2],
          [0, 1, 10_000, 13_100, 2],
        ],
      ],
      [1, []],
    ])
    const slow = { ...invalidation(1), slowestCallMs: 3_200 }
    const violations = checkCalls(reads, [invalidation(0), slow], [{ node: 1, what: 'read item 3' }], bounds)
    expect(violations.map((v) => [v.node, v.call])).toEqual([
      [0, { what: 'read', ms: 3_100 }],
      [1, { what: 'invalidate key', ms: 3_200 }],
      [1, { what: 'read item 3', ms: Number.NaN }],
    ])
    expect(violations.every((v) => v.kind === 'slow-call')).toBe(true)
  })
})
