import type { CommandContext } from '../command-context.js'
import { CliError } from '../errors.js'

const GLOB_SPECIAL = /[*?[\]\\]/g

/**
 * The queues that exist under `prefix`: BullMQ keeps a `<prefix>:<queue>:meta` hash for every queue a worker
 * or producer has opened, so an app's own queues are found as well as the built-in ones (SCAN, never KEYS).
 */
export async function discoverQueues(context: CommandContext, prefix: string): Promise<string[]> {
  const redis = await context.redis()
  const head = `${prefix}:`
  const match = `${prefix.replace(GLOB_SPECIAL, '\\$&')}:*:meta`
  const names = new Set<string>()
  let cursor = '0'
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', match, 'COUNT', 500)
    for (const key of keys) names.add(key.slice(head.length, -':meta'.length))
    cursor = next
  } while (cursor !== '0')
  return [...names].sort()
}

/** `queue`, if it exists under `prefix`; otherwise a usage error listing the queues that do. */
export async function existingQueue(context: CommandContext, prefix: string, queue: string): Promise<string> {
  const known = await discoverQueues(context, prefix)
  if (known.includes(queue)) return queue
  throw new CliError(
    'CLI_ERR_USAGE',
    `<queue>: no queue ${JSON.stringify(queue)} under prefix ${prefix}` +
      (known.length > 0 ? `; its queues: ${known.join(', ')}` : '; it has no queues (is --prefix right?)'),
    { details: { queue, prefix, known } },
  )
}
