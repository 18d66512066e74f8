import { toRedisMatch } from '../invalidation/glob.js'
import { keyHash } from '../tiers/key-hash.js'

/**
 * Key generations are kept per bucket of keys, not per key: a bucket's counter exists once any key of it was
 * read, so a miss of a key never seen before needs no script to create its counter (a miss stays two round
 * trips, like GET + SET). A delete or `set` therefore also turns the fills in flight of the other keys of its
 * bucket into no-ops, which only costs them their write.
 */
const KEY_GENERATION_BUCKETS = 1024

/**
 * Where everything of one cache lives in Redis; private to the Redis protocol. Every key starts with
 * `cs:{<namespace>}` (or `cs:{<namespace>:<tenant>}`), a hash tag, so any multi-key command or script
 * stays in one Cluster slot.
 *
 * Generation counters are `<prefix>:g:<dependency>` (see stack/dependencies.ts), plus `g:kb:<bucket>`
 * (key generations), `g:p` (the pattern epoch) and `g:n` (the namespace generation); `r` holds the run id of
 * the server under which the namespace generation was last fenced (see restart-fence.lua).
 */
export class KeyLayout {
  readonly prefix: string
  readonly entryPrefix: string
  readonly patternEpoch: string
  readonly namespaceGeneration: string
  readonly restartFence: string
  readonly channel: string
  readonly probeChannel: string

  constructor(namespace: string, tenant: string | undefined) {
    this.prefix = tenant === undefined ? `cs:{${namespace}}` : `cs:{${namespace}:${tenant}}`
    this.entryPrefix = `${this.prefix}:e:`
    this.patternEpoch = `${this.prefix}:g:p`
    this.namespaceGeneration = `${this.prefix}:g:n`
    this.restartFence = `${this.prefix}:r`
    this.channel = `${this.prefix}:bus`
    this.probeChannel = `${this.prefix}:probe`
  }

  entry(key: string): string {
    return this.entryPrefix + key
  }

  /** The user key of an entry key. */
  keyOf(entryKey: string): string {
    return entryKey.slice(this.entryPrefix.length)
  }

  /** SCAN MATCH argument for entries whose key matches `glob`. */
  entryMatch(glob: string): string {
    return toRedisMatch(this.entryPrefix, glob)
  }

  keyGeneration(key: string): string {
    return `${this.prefix}:g:kb:${keyHash(key) & (KEY_GENERATION_BUCKETS - 1)}`
  }

  counter(dependency: string): string {
    return `${this.prefix}:g:${dependency}`
  }

  lease(key: string): string {
    return `${this.prefix}:l:${key}`
  }

  clearToken(token: string): string {
    return `${this.prefix}:ct:${token}`
  }

  snapshot(instanceId: string): string {
    return `${this.prefix}:i:${instanceId}`
  }

  get snapshotMatch(): string {
    return `${this.prefix}:i:*`
  }
}
