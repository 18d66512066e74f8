import type { RedisProtocol } from '../redis/redis-protocol.js'
import { applyInBatches } from './batches.js'
import type { Deadline } from './deadline.js'
import type { KeyItem } from './items.js'
import type { Tally } from './tally.js'

/** Deletes entries and bumps their key generations in L2, a batch per script call. */
export async function deleteKeys(
  l2: Pick<RedisProtocol, 'deleteKeys'>,
  items: readonly KeyItem[],
  tally: Tally,
  deadline: Deadline,
): Promise<void> {
  await applyInBatches(
    items,
    async (batch) => {
      const existed = await l2.deleteKeys(batch.map((item) => item.key))
      const removed = existed.filter(Boolean).length
      return {
        matched: existed,
        effect: (report) => {
          report.removed += removed
        },
      }
    },
    tally,
    deadline,
  )
}
