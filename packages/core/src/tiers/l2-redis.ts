import { Cluster, Redis } from 'ioredis'
import { attachScripts, type ScriptedClient } from '../lua/scripts.js'
import { CircuitBreaker } from './circuit-breaker.js'
import { type DecodedEntry, decodeEntry } from './entry-format.js'
import type { KeyLayout } from './key-layout.js'

/** What the read script answered. Versions are those of the counters passed, in order. */
export interface L2Read {
  status: 'miss' | 'fresh' | 'stale' | 'invalidated'
  /** The entry when fresh or stale. */
  entry: DecodedEntry | undefined
  versions: string[]
}

/** What a fill writes; `versions` (fill mode) were captured before the loader started. */
export interface L2Write {
  key: string
  counters: string[]
  data: string
  expiresAt: number
  graceEnd: number
  createdAt: number
  px: number
}

const STATUS = ['miss', 'fresh', 'stale', 'invalidated'] as const
const SCAN_COUNT = 500
const UNLINK_BATCH = 500
/** Key generations outlive any load: one that expired mid-load only makes that fill a no-op. */
const KEY_GENERATION_MIN_PX = 600_000

/** Thrown instead of calling Redis while the circuit breaker is open. */
class L2Unavailable extends Error {
  override readonly name = 'L2Unavailable'
}

export interface L2Hooks {
  onCircuitChange(open: boolean, failures: number): void
  onClientError(error: unknown): void
}

/** A random 48-bit integer: what a missing generation counter is initialised to. */
function nonce(): string {
  return String(Math.floor(Math.random() * 2 ** 48))
}

function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis command timed out after ${ms} ms`)), ms)
  })
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer))
}

/**
 * The Redis tier: owns its connections (created with a per-command timeout, so no call hangs
 * on a paused or blackholed server), runs the Lua scripts, and sits behind a circuit breaker.
 */
export class L2Redis {
  readonly client: ScriptedClient
  readonly breaker: CircuitBreaker
  private readonly isCluster: boolean

  private failures = 0

  constructor(
    source: string | Redis | Cluster,
    private readonly layout: KeyLayout,
    private readonly timeoutMs: number,
    breaker: { failures: number; openFor: number },
    hooks: L2Hooks,
  ) {
    const client = connect(source, timeoutMs)
    client.on('error', (error: unknown) => hooks.onClientError(error))
    this.isCluster = client instanceof Cluster
    this.client = attachScripts(client)
    client.on('ready', () => {
      this.recycling = false
    })
    this.breaker = new CircuitBreaker(breaker.failures, breaker.openFor, (open) => {
      hooks.onCircuitChange(open, this.failures)
    })
  }

  /** Runs one Redis call through the breaker; `force` bypasses an open breaker (invalidations must be tried). */
  async run<T>(call: () => Promise<T>, force = false): Promise<T> {
    if (!force && !this.breaker.allows()) throw new L2Unavailable('Redis skipped: circuit breaker open')
    try {
      const result = await (this.isCluster ? withDeadline(call(), this.timeoutMs) : call())
      this.failures = 0
      this.breaker.success()
      return result
    } catch (error) {
      this.failures++
      this.breaker.failure()
      if (isTimeout(error)) this.recycle()
      throw error
    }
  }

  /**
   * A timed-out command stays in ioredis' reply queue; if its bytes were lost (a blackholed link),
   * later replies would be matched to the wrong commands. A fresh connection makes that impossible.
   */
  private recycle(): void {
    // Once per connection: a socket being closed stays 'ready' until the peer answers the FIN (never,
    // while Redis is paused), and each further disconnect would pile another listener onto it.
    if (this.recycling || this.client.status !== 'ready') return
    this.recycling = true
    this.client.disconnect(true)
  }

  /** True from a recycle until the fresh connection is ready. */
  private recycling = false

  /** One EVALSHA: the entry, checked against its generations, plus the versions of `counters`. */
  async read(
    key: string,
    counters: string[],
    refreshFraction: number,
    keyGenerationPx: number,
  ): Promise<L2Read> {
    const now = Date.now()
    const reply = (await this.run(
      counters.length === 0
        ? () => this.client.csRead(1, this.layout.entry(key), this.layout.prefix)
        : () =>
            this.client.csRead(
              1 + counters.length,
              this.layout.entry(key),
              ...counters,
              this.layout.prefix,
              String(now),
              nonce(),
              String(Math.max(keyGenerationPx, KEY_GENERATION_MIN_PX)),
              String(refreshFraction),
            ),
    )) as string | [number, string | null, ...string[]]
    // The common hit comes back as the bare entry; everything else as [status, entry, ...versions].
    if (typeof reply === 'string') {
      const entry = decodeEntry(reply)
      return { status: now < entry.expiresAt ? 'fresh' : 'stale', entry, versions: [] }
    }
    const raw = reply[1]
    return {
      status: STATUS[reply[0]]!,
      entry: raw === null ? undefined : decodeEntry(raw),
      versions: reply.slice(2) as string[],
    }
  }

  /** The conditional fill: true when written, false when a captured version had moved. */
  async fill(write: L2Write, versions: string[]): Promise<boolean> {
    return (await this.write(write, 'fill', versions)) === 1
  }

  /** An authoritative write (`cache.set`): bumps the key generation so older fills cannot land. */
  async set(write: L2Write): Promise<void> {
    await this.write(write, 'set', [])
  }

  private write(write: L2Write, mode: 'fill' | 'set', versions: string[]): Promise<unknown> {
    const setMode = mode === 'set'
    return this.run(() =>
      this.client.csFill(
        1 + write.counters.length,
        this.layout.entry(write.key),
        ...write.counters,
        this.layout.prefix,
        mode,
        // Only 'set' creates or bumps the key generation.
        setMode ? nonce() : '',
        setMode ? String(Math.max(write.px, KEY_GENERATION_MIN_PX)) : '',
        write.data,
        String(write.expiresAt),
        String(write.graceEnd),
        String(write.createdAt),
        String(write.px),
        ...versions,
      ),
    )
  }

  /** Deletes entries and bumps their key generations; returns how many entries existed. */
  async deleteKeys(keys: string[]): Promise<number> {
    const pairs: string[] = []
    for (const key of keys) pairs.push(this.layout.entry(key), this.layout.keyGeneration(key))
    return (await this.run(
      () => this.client.csDelete(pairs.length, ...pairs, nonce(), String(KEY_GENERATION_MIN_PX)),
      true,
    )) as number
  }

  /** Bumps generation counters (full key names). */
  async bump(counters: string[]): Promise<void> {
    await this.run(() => this.client.csBump(counters.length, ...counters, nonce()), true)
  }

  async acquireLease(key: string, token: string, generation: string, px: number): Promise<boolean> {
    const taken = await this.run(() =>
      this.client.csLeaseAcquire(1, this.layout.lease(key), token, generation, String(px)),
    )
    return taken === 1
  }

  async releaseLease(key: string, token: string): Promise<void> {
    await this.run(() => this.client.csLeaseRelease(1, this.layout.lease(key), token))
  }

  /** Returns how many subscribers received the message. */
  publish(channel: string, message: string): Promise<number> {
    return this.run(() => this.client.publish(channel, message), true)
  }

  /**
   * SCANs every master (one on a standalone server) for entry keys matching `match` and hands
   * them over in batches; never KEYS, so Redis is never blocked for a whole keyspace walk.
   */
  async scan(
    match: string,
    onBatch: (node: Redis, keys: string[]) => Promise<void>,
    onPage?: (walked: number) => void,
  ): Promise<void> {
    const nodes = this.client instanceof Cluster ? this.client.nodes('master') : [this.client as Redis]
    for (const node of nodes) {
      let cursor = '0'
      do {
        const [next, keys] = await this.run(
          () => node.scan(cursor, 'MATCH', match, 'COUNT', SCAN_COUNT),
          true,
        )
        cursor = next
        if (keys.length > 0) await onBatch(node, keys)
        onPage?.(SCAN_COUNT)
      } while (cursor !== '0')
    }
  }

  /** `INFO memory` and `INFO stats` of the server (on a Cluster, of one node). */
  async info(): Promise<string> {
    const node = this.client instanceof Cluster ? this.client.nodes('master')[0]! : (this.client as Redis)
    const [memory, stats] = await Promise.all([
      this.run(() => node.info('memory')),
      this.run(() => node.info('stats')),
    ])
    return `${memory}\n${stats}`
  }

  /**
   * Up to `limit` user keys of entries (SCAN, never KEYS). Each call starts at a random cursor and
   * wraps around once, so repeated checks look at different entries, not the first pages every time.
   */
  async sampleEntries(limit: number): Promise<string[]> {
    const nodes = this.client instanceof Cluster ? this.client.nodes('master') : [this.client as Redis]
    const found = new Set<string>()
    const match = `${this.layout.entryPrefix}*`
    for (const node of nodes) {
      // Redis masks a cursor to its table size, so any number is a valid place to start.
      let cursor = String(Math.floor(Math.random() * 2 ** 32))
      let wrapped = false
      while (found.size < limit) {
        const [next, keys] = await this.run(() => node.scan(cursor, 'MATCH', match, 'COUNT', SCAN_COUNT))
        let reachedStart = false
        for (const key of keys) {
          const userKey = key.slice(this.layout.entryPrefix.length)
          if (found.has(userKey)) reachedStart = wrapped
          else if (found.size < limit) found.add(userKey)
        }
        if (reachedStart || (next === '0' && wrapped)) break
        if (next === '0') wrapped = true
        cursor = next
      }
    }
    return [...found]
  }

  /** UNLINKs keys on the node that holds them, in batches; returns how many existed. */
  async unlink(node: Redis, keys: string[]): Promise<number> {
    let removed = 0
    for (let i = 0; i < keys.length; i += UNLINK_BATCH) {
      const batch = keys.slice(i, i + UNLINK_BATCH)
      removed += await this.run(() => node.unlink(...batch), true)
    }
    return removed
  }

  /**
   * A second connection for the bus subscriber, with the same options. The bus subscribes again
   * itself on every 'ready'; ioredis' own resubscribe would be a second SUBSCRIBE whose promise
   * nobody holds, an unhandled rejection when the connection closes before Redis answers it.
   */
  duplicate(): Redis | Cluster {
    return this.client instanceof Cluster
      ? this.client.duplicate()
      : this.client.duplicate({ autoResubscribe: false })
  }

  async close(): Promise<void> {
    try {
      await withDeadline(this.client.quit(), this.timeoutMs)
    } catch {
      // A dead Redis cannot answer QUIT; dropping the socket is all that is left.
    }
    this.client.disconnect()
  }
}

function isTimeout(error: unknown): boolean {
  return error instanceof Error && /timed out/i.test(error.message)
}

function connect(source: string | Redis | Cluster, timeoutMs: number): Redis | Cluster {
  const common = { commandTimeout: timeoutMs, maxRetriesPerRequest: 0 }
  if (typeof source === 'string') return new Redis(source, common)
  if (source instanceof Cluster) {
    return source.duplicate(undefined, {
      redisOptions: { ...source.options.redisOptions, ...common },
    })
  }
  return source.duplicate(common)
}
