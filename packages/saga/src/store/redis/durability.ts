import { isCluster } from '@cachesaga/common'
import { type Cluster, type Redis, ReplyError } from 'ioredis'
import { SagaError } from '../../errors.js'

/** The settings that decide whether Redis can lose saga state without anyone being told. */
export interface PersistenceSettings {
  appendonly: string
  appendfsync: string
  maxmemoryPolicy: string
}

/** What a saga store needs, and why, for each setting that is wrong; empty when the settings are safe. */
export function persistenceProblems(settings: PersistenceSettings): string[] {
  const problems: string[] = []
  if (settings.appendonly !== 'yes') {
    problems.push(
      `appendonly is "${settings.appendonly}": set appendonly yes (without an append-only file a restart forgets every saga in flight)`,
    )
  } else if (settings.appendfsync !== 'always' && settings.appendfsync !== 'everysec') {
    problems.push(
      `appendfsync is "${settings.appendfsync}": set appendfsync everysec or always (otherwise the OS decides when writes reach the disk)`,
    )
  }
  // volatile-* policies evict only keys with a TTL, and saga keys have none: they are safe, noeviction too.
  if (settings.maxmemoryPolicy !== 'noeviction' && !settings.maxmemoryPolicy.startsWith('volatile-')) {
    problems.push(
      `maxmemory-policy is "${settings.maxmemoryPolicy}": set noeviction, or a volatile-* policy (saga keys never expire, so only those policies cannot evict them)`,
    )
  }
  return problems
}

/**
 * Reads the persistence settings of every node that holds saga state (each master of a Cluster) and rejects unless
 * all are safe: SAGA_ERR_STORE_NOT_DURABLE naming each node and what to set, or SAGA_ERR_STORE_DURABILITY_UNKNOWN when
 * CONFIG GET is refused (an ACL without `+config|get`, a managed Redis that renamed CONFIG): then nothing is guessed.
 */
export async function checkRedisDurability(client: Redis | Cluster, target: string): Promise<void> {
  const nodes = isCluster(client) ? client.nodes('master') : [client]
  const found: Array<{ node: string; problems: string[] }> = []
  for (const node of nodes) {
    const name = `${node.options.host ?? '127.0.0.1'}:${node.options.port ?? 6379}`
    let settings: PersistenceSettings
    try {
      settings = await readSettings(node)
    } catch (error) {
      if (!(error instanceof ReplyError)) throw error
      throw new SagaError(
        'SAGA_ERR_STORE_DURABILITY_UNKNOWN',
        `could not read the persistence settings of Redis at ${target} (node ${name}): CONFIG GET was refused ` +
          `(${(error as Error).message}). A saga store needs appendonly yes, appendfsync everysec or always, and ` +
          'maxmemory-policy noeviction (or volatile-*). Allow CONFIG GET to this user (+config|get), or pass ' +
          'requireDurableStore: false if you know the server is configured so',
        { cause: error, details: { target, node: name } },
      )
    }
    const problems = persistenceProblems(settings)
    if (problems.length > 0) found.push({ node: name, problems })
  }
  if (found.length === 0) return
  const what = found.map(({ node, problems }) => `${node}: ${problems.join('; ')}`).join(' | ')
  throw new SagaError(
    'SAGA_ERR_STORE_NOT_DURABLE',
    `Redis at ${target} can lose saga state silently (${what}). Set this in the server's configuration, or pass ` +
      'requireDurableStore: false where losing sagas is acceptable (tests, demos)',
    { details: { target, nodes: found } },
  )
}

async function readSettings(node: Redis): Promise<PersistenceSettings> {
  // One parameter per call: CONFIG GET with several is Redis 7 only.
  const [appendonly, appendfsync, maxmemoryPolicy] = await Promise.all(
    ['appendonly', 'appendfsync', 'maxmemory-policy'].map(
      async (name) => ((await node.config('GET', name)) as string[])[1] ?? '',
    ),
  )
  return { appendonly: appendonly!, appendfsync: appendfsync!, maxmemoryPolicy: maxmemoryPolicy! }
}
