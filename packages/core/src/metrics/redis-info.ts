/** The Redis `INFO` figures an operator looks at first. */
export interface RedisInfo {
  usedMemoryBytes: number
  evictedKeys: number
  keyspaceHits: number
  keyspaceMisses: number
}

/** Parses the `field:value` lines of `INFO memory` + `INFO stats`. */
export function parseRedisInfo(text: string): RedisInfo {
  const fields = new Map<string, string>()
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':')
    if (colon > 0 && !line.startsWith('#')) fields.set(line.slice(0, colon), line.slice(colon + 1))
  }
  const number = (name: string) => Number(fields.get(name) ?? 0)
  return {
    usedMemoryBytes: number('used_memory'),
    evictedKeys: number('evicted_keys'),
    keyspaceHits: number('keyspace_hits'),
    keyspaceMisses: number('keyspace_misses'),
  }
}
