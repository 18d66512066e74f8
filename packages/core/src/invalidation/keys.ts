import type { RedisProtocol } from '../redis/redis-protocol.js'
import { applyInBatches } from './batches.js'
import type { KeyItem } from './items.js'
import type { InvalidationReport } from './report.js'

/** Deletes entries and bumps their key generations in L2, a batch per script call. */
export async function deleteKeys(
  l2: Pick<RedisProtocol, 'deleteKeys'>,
  items: readonly KeyItem[],
  report: InvalidationReport,
): Promise<void> {
  await applyInBatches(
    items,
    async (batch) => {
      report.removed += await l2.deleteKeys(batch.map((item) => item.key))
    },
    report,
  )
}
