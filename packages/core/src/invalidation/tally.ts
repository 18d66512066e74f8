import type { InvalidationKind, InvalidationReport } from './report.js'

/** What an applied batch found: which of its items matched anything, and what it did to the report. */
export interface Outcome {
  /** Per item of the batch, in order; all matched when left out. */
  matched?: readonly boolean[]
  /** Entries removed, pattern matches. */
  effect?: (report: InvalidationReport) => void
}

/** One target item as the user named it. */
export interface TallyItem {
  kind: InvalidationKind
  target: string
}

/**
 * The books of one invalidation: every item is pending until its batch is applied or fails. At the deadline
 * the books close: what is still pending is reported as not confirmed (its command may yet land: applying an
 * invalidation twice is harmless, so the caller's retry is safe), and outcomes that arrive later change
 * nothing in a report the caller already holds.
 */
export class Tally {
  private readonly pending = new Set<TallyItem>()
  private closed = false

  constructor(readonly report: InvalidationReport) {}

  expect(items: readonly TallyItem[]): void {
    for (const item of items) this.pending.add(item)
  }

  /** `items` are applied: each is counted as matched or listed as unmatched, while the books are open. */
  applied(items: readonly TallyItem[], outcome: Outcome = {}): void {
    if (this.closed) return
    items.forEach((item, i) => {
      if (!this.pending.delete(item)) return
      if (outcome.matched?.[i] ?? true) this.report.counts[item.kind]++
      else this.report.unmatched.push({ kind: item.kind, target: item.target })
    })
    outcome.effect?.(this.report)
  }

  failed(items: readonly TallyItem[], error: unknown): void {
    if (this.closed) return
    for (const item of items) {
      if (this.pending.delete(item)) {
        this.report.errors.push({ kind: item.kind, target: item.target, error: describe(error) })
      }
    }
  }

  /** Closes the books at the deadline of `ms`: pending items become errors. */
  close(ms: number): void {
    if (this.closed) return
    this.closed = true
    for (const item of this.pending) {
      this.report.errors.push({
        kind: item.kind,
        target: item.target,
        error: { message: `not confirmed within the invalidate timeout (${ms} ms); it may still be applied` },
      })
    }
    this.pending.clear()
  }
}

/** An error as the report shows it: its message and, when it has one, its code. */
export function describe(error: unknown): { message: string; code?: string } {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code
    return typeof code === 'string' ? { message: error.message, code } : { message: error.message }
  }
  return { message: String(error) }
}
