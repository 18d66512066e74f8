import type { InvalidationKind, InvalidationReport } from './report.js'
import { withRetries } from './retry.js'

const BATCH = 100

/**
 * Applies items a batch (one script call) at a time, each batch with retries. A batch that still
 * fails is reported per item, and the next batch is tried anyway: bulk work continues past a failure.
 */
export async function applyInBatches<I extends { kind: InvalidationKind; target: string }>(
  items: readonly I[],
  apply: (batch: I[]) => Promise<void>,
  report: InvalidationReport,
): Promise<void> {
  for (let i = 0; i < items.length; i += BATCH) {
    const batch = items.slice(i, i + BATCH)
    try {
      await withRetries(() => apply(batch))
      for (const item of batch) report.counts[item.kind]++
    } catch (error) {
      for (const item of batch)
        report.errors.push({ kind: item.kind, target: item.target, error: describe(error) })
    }
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
