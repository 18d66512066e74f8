import type { RedisProtocol } from '../redis/redis-protocol.js'
import { applyInBatches } from './batches.js'
import type { DependencyItem } from './items.js'
import type { InvalidationReport } from './report.js'

/** Bumps the generation counters of tags, scopes and cached functions: O(1) each, however many entries recorded them. */
export async function bumpDependencies(
  l2: Pick<RedisProtocol, 'bumpDependencies'>,
  items: readonly DependencyItem[],
  report: InvalidationReport,
): Promise<void> {
  await applyInBatches(items, (batch) => l2.bumpDependencies(batch.map((item) => item.dep)), report)
}
