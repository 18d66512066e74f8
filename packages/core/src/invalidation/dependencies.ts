import type { RedisProtocol } from '../redis/redis-protocol.js'
import { applyInBatches } from './batches.js'
import type { Deadline } from './deadline.js'
import type { DependencyItem } from './items.js'
import type { Tally } from './tally.js'

/** Bumps the generation counters of tags, scopes and cached functions: O(1) each, however many entries recorded them. */
export async function bumpDependencies(
  l2: Pick<RedisProtocol, 'bumpDependencies'>,
  items: readonly DependencyItem[],
  tally: Tally,
  deadline: Deadline,
): Promise<void> {
  await applyInBatches(
    items,
    async (batch) => ({ matched: await l2.bumpDependencies(batch.map((item) => item.dep)) }),
    tally,
    deadline,
  )
}
