import type { Deadline } from './deadline.js'
import { withRetries } from './retry.js'
import type { Outcome, Tally, TallyItem } from './tally.js'

const BATCH = 100

/**
 * Applies items a batch (one script call) at a time, every batch at once (the connection sends the commands
 * of one tick together), each with retries within the deadline. A batch that still fails is reported per
 * item; the other batches are applied anyway: bulk work continues past a failure. `apply` answers what its
 * batch found, recorded if the books are still open.
 */
export async function applyInBatches<I extends TallyItem>(
  items: readonly I[],
  apply: (batch: I[]) => Promise<Outcome>,
  tally: Tally,
  deadline: Deadline,
): Promise<void> {
  tally.expect(items)
  const batches: I[][] = []
  for (let i = 0; i < items.length; i += BATCH) batches.push(items.slice(i, i + BATCH))
  await Promise.all(
    batches.map(async (batch) => {
      try {
        tally.applied(batch, await withRetries(() => apply(batch), deadline))
      } catch (error) {
        tally.failed(batch, error)
      }
    }),
  )
}
