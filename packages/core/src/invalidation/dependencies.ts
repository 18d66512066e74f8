import type { KeyLayout } from '../tiers/key-layout.js'
import type { L2Redis } from '../tiers/l2-redis.js'
import { applyInBatches } from './batches.js'
import type { DependencyItem } from './items.js'
import type { InvalidationReport } from './report.js'

/** Bumps the generation counters of tags, scopes and cached functions: O(1) each, however many entries recorded them. */
export async function bumpDependencies(
  l2: L2Redis,
  layout: KeyLayout,
  items: readonly DependencyItem[],
  report: InvalidationReport,
): Promise<void> {
  await applyInBatches(items, (batch) => l2.bump(batch.map((item) => layout.counter(item.dep))), report)
}
