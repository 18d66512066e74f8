import type { ApiClient, AvailabilityAnswer } from '../demo/api-client.js'

/** One slot a write changed, and whether it should now be free. */
export interface SlotChange {
  staffId: string
  serviceId: string
  /** The staff member's local day the slot is on (what `GET /availability` is asked for). */
  date: string
  start: string
  free: boolean
}

/** What one committed write looked like from both instances. */
export interface FreshnessObservation {
  /** The committing instance showed the old availability right after it answered (should never happen). */
  staleOnCommitting: boolean
  /**
   * How long after the commit's answer the other instance read its first answer showing the change (an upper
   * bound of its window: the change may have reached it earlier, while that read waited its turn there).
   */
  otherWindowMs: number
  /** How long after the commit's answer the other instance last read an answer without the change (0: never). */
  otherLastStaleMs: number
  /** Reads that showed the old availability after the other instance had shown the new one. */
  staleAfterWindow: number
  /** The other instance never showed the change within the deadline. */
  timedOut: boolean
}

/** How long the other instance may take before the observation gives up on it. */
const DEADLINE_MS = 5_000
/** Reads of both instances after the window, each of which must show the change. */
const CONFIRMING_READS = 2

/** Now, in ms since the epoch with sub-ms precision: the clock the API's `cache.servedAt` is read from. */
export function epochNow(): number {
  return performance.timeOrigin + performance.now()
}

/** Whether `api` shows every change now, and when (its clock) it read the answers it was judged on. */
async function shows(
  api: ApiClient,
  changes: readonly SlotChange[],
): Promise<{ fresh: boolean; servedAt: number }> {
  const days = new Map<string, Promise<AvailabilityAnswer>>()
  for (const change of changes) {
    const key = `${change.staffId}|${change.serviceId}|${change.date}`
    if (!days.has(key)) days.set(key, api.availability(change.staffId, change.serviceId, change.date))
  }
  let fresh = true
  let servedAt = 0
  for (const change of changes) {
    const answer = await days.get(`${change.staffId}|${change.serviceId}|${change.date}`)!
    servedAt = Math.max(servedAt, answer.cache.servedAt)
    if (answer.slots.some((slot) => slot.startsAt === change.start) !== change.free) fresh = false
  }
  return { fresh, servedAt }
}

/**
 * Watches a committed write reach both instances. `answeredAt` (`epochNow()`) is when the committing instance's
 * answer arrived: from then on it must show the change; the other instance is read back to back until it does,
 * each answer dated by the instance itself (`cache.servedAt`, the same machine's clock), and then both are read
 * again: an old answer after the window is a stale read.
 */
export async function observeFreshness(
  committing: ApiClient,
  other: ApiClient,
  changes: readonly SlotChange[],
  answeredAt: number,
): Promise<FreshnessObservation> {
  const staleOnCommitting = !(await shows(committing, changes)).fresh
  let otherLastStaleMs = 0
  let otherWindowMs: number | undefined
  while (otherWindowMs === undefined) {
    const { fresh, servedAt } = await shows(other, changes)
    const at = Math.max(0, servedAt - answeredAt)
    if (fresh) otherWindowMs = at
    else if (epochNow() - answeredAt > DEADLINE_MS) {
      return {
        staleOnCommitting,
        otherWindowMs: at,
        otherLastStaleMs: at,
        staleAfterWindow: 0,
        timedOut: true,
      }
    } else otherLastStaleMs = at
  }
  let staleAfterWindow = 0
  for (let i = 0; i < CONFIRMING_READS; i++) {
    const [onOther, onCommitting] = await Promise.all([shows(other, changes), shows(committing, changes)])
    if (!onOther.fresh) staleAfterWindow++
    if (!onCommitting.fresh) staleAfterWindow++
  }
  return { staleOnCommitting, otherWindowMs, otherLastStaleMs, staleAfterWindow, timedOut: false }
}
