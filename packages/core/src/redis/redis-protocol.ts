import type { Redis } from 'ioredis'
import type { DependencyVersion, EntryTimes, Fence, Recorded } from '../stack/fence.js'
import type { L2Connection } from './connection.js'
import { decodeEntry, encodeEntry, type StoredEntry } from './entry-format.js'
import { KeyLayout } from './key-layout.js'
import { batchedMget, type PendingRead, ReadBatcher, viewOf } from './read-batch.js'

export type { StoredEntry } from './entry-format.js'

/** What `checkServer` found: the server, and whether it fenced the namespace now. */
export interface ServerCheck {
  runId: string
  role: string
  /** The replication history's id (`master_replid`); an offset compares only within one. */
  replicationId: string
  replicationOffset: number
  /** The run id the namespace was fenced under before this check; undefined when never. */
  fencedBy: string | undefined
  /** True when this check gave the namespace generation a fresh value. */
  bumped: boolean
}

/** What a read of one key found. */
export interface L2Read {
  /** `stale`: past its TTL, within grace. `invalidated`: a counter it recorded moved (never served). */
  readonly status: 'miss' | 'fresh' | 'stale' | 'invalidated'
  /** The entry when fresh or stale. */
  readonly entry: StoredEntry | undefined
  /**
   * The versions to fence a fill with, taken by the same MGET, when the read was given the entry's
   * dependencies and every counter existed; otherwise `captureFence` creates the missing ones.
   */
  readonly fence: Fence | undefined
}

/** What a fill or `set` writes. */
export interface EntryWrite extends EntryTimes {
  readonly data: string
}

/** One SCAN page of entries: their user keys, and a way to remove exactly them. */
export interface EntryPage {
  readonly keys: string[]
  unlink(): Promise<number>
}

const SCAN_COUNT = 500
const UNLINK_BATCH = 500

/** A random 48-bit integer: what a missing generation counter is initialised to. */
function nonce(): string {
  return String(Math.floor(Math.random() * 2 ** 48))
}

/**
 * The cache's Redis protocol: the only code that knows the entry's byte format, the key layout, the
 * scripts and their argument positions. It offers typed operations and never hands out the client.
 *
 * A read is one MGET of the entry and the counters its caller names (namespace generation, key generation,
 * pattern epoch, dependencies), checked here: no script runs on a hit. The entry's recorded versions are
 * compared with the counters read in the same MGET; a dependency the caller did not name (an entry read
 * with `get`, or written with other tags) is read by a second MGET. That one is not atomic with the first,
 * and need not be: counters only grow, so one that still holds the recorded version held it all along.
 */
export class RedisProtocol {
  private readonly layout: KeyLayout
  private readonly batcher: ReadBatcher<L2Read>

  constructor(
    private readonly connection: L2Connection,
    namespace: string,
    tenant: string | undefined,
  ) {
    this.layout = new KeyLayout(namespace, tenant)
    this.batcher = new ReadBatcher(this.readBatch)
  }

  get target(): string {
    return this.connection.target
  }

  /**
   * `deps` undefined: a plain read that needs no fence (`get`, the checker). The reads asked for in the same
   * turn of the event loop go out as one MGET (see ReadBatcher).
   */
  read(key: string, deps: readonly string[] | undefined, now: number): Promise<L2Read> {
    return this.batcher.add(key, deps, now)
  }

  /** Reads several keys in one MGET (plus one for dependencies nobody named), each as `read` would. */
  readMany(
    keys: readonly string[],
    depsOf: ReadonlyArray<readonly string[]>,
    now: number,
  ): Promise<L2Read[]> {
    const reads = keys.map((key, i) => ({ key, deps: depsOf[i], now }))
    const { keys: names, positions } = batchedMget(this.layout, reads)
    return this.connection
      .run(() => this.connection.client.mget(names))
      .then((reply) => Promise.all(reads.map((read, i) => this.judgeView(reply, positions[i]!, read))))
  }

  /** Answers a batch of reads from one MGET; a failure of that MGET is every read's failure. */
  private readonly readBatch = (reads: Array<PendingRead<L2Read>>): void => {
    const { keys, positions } = batchedMget(this.layout, reads)
    this.connection
      .run(() => this.connection.client.mget(keys))
      .then(
        (reply) => {
          for (let i = 0; i < reads.length; i++) {
            const read = reads[i]!
            try {
              read.resolve(this.judgeView(reply, positions[i]!, read))
            } catch (error) {
              read.reject(error)
            }
          }
        },
        (error: unknown) => {
          for (const read of reads) read.reject(error)
        },
      )
  }

  private judgeView(
    reply: ReadonlyArray<string | null>,
    positions: readonly number[],
    read: Pick<PendingRead<L2Read>, 'deps' | 'now'>,
  ): L2Read | Promise<L2Read> {
    const view = viewOf(reply, positions)
    const fenced = read.deps === undefined ? undefined : view
    return this.judge(view[0] ?? null, view[1] ?? null, fenced, read.now, read.deps)
  }

  /** The fence for a fill of `key` with `deps`, creating any counter that does not exist yet. */
  async captureFence(key: string, deps: readonly string[]): Promise<Fence> {
    const { layout, connection } = this
    const counters = [layout.namespaceGeneration, layout.keyGeneration(key), layout.patternEpoch]
    for (const dep of deps) counters.push(layout.counter(dep))
    const versions = (await connection.run(() =>
      connection.client.csCapture(counters.length, ...counters, nonce()),
    )) as string[]
    return fenceOf(versions, 0, deps)
  }

  /** The conditional fill: true when written, false when a fenced counter had moved. */
  fill(key: string, write: EntryWrite, fence: Fence): Promise<boolean> {
    const { layout, connection } = this
    const keys = [
      layout.entry(key),
      layout.keyGeneration(key),
      layout.patternEpoch,
      layout.namespaceGeneration,
    ]
    const versions = [fence.keyGeneration, fence.patternEpoch, fence.namespaceGeneration]
    for (const { dependency, version } of fence.dependencies) {
      keys.push(layout.counter(dependency))
      versions.push(version)
    }
    const entry = encodeEntry(fence, write, write.data)
    return connection
      .run(() => connection.client.csFill(keys.length, ...keys, entry, px(write), ...versions))
      .then((written) => written === 1)
  }

  /** An authoritative write: bumps the key generation (older fills in flight are rejected), then writes. */
  async set(key: string, write: EntryWrite, recorded: Recorded): Promise<void> {
    const { layout, connection } = this
    const entry = encodeEntry(recorded, write, write.data)
    await connection.run(() =>
      connection.client.csSet(2, layout.entry(key), layout.keyGeneration(key), entry, px(write), nonce()),
    )
  }

  /** The versions a `set` of an entry with `deps` records (creating missing counters). */
  async currentVersions(deps: readonly string[]): Promise<Recorded> {
    const { layout, connection } = this
    const counters = [layout.namespaceGeneration]
    for (const dep of deps) counters.push(layout.counter(dep))
    const reply = await connection.run(() => connection.client.mget(counters))
    const versions = reply.every((version) => version !== null)
      ? (reply as string[])
      : ((await connection.run(() =>
          connection.client.csCapture(counters.length, ...counters, nonce()),
        )) as string[])
    return { namespaceGeneration: versions[0]!, dependencies: pair(deps, versions, 1) }
  }

  /** Deletes entries and bumps their key generations; answers, per key, whether its entry existed. */
  async deleteKeys(keys: readonly string[]): Promise<boolean[]> {
    const { layout, connection } = this
    const generations = [...new Set(keys.map((key) => layout.keyGeneration(key)))]
    const all = [...keys.map((key) => layout.entry(key)), ...generations]
    const existed = (await connection.run(
      () => connection.client.csDelete(all.length, ...all, String(keys.length), nonce()),
      true,
    )) as number[]
    return existed.map((one) => one === 1)
  }

  /**
   * Bumps the generation counters of dependencies (tags, scopes, cached functions); answers, per dependency,
   * whether its counter existed, i.e. whether anything was ever written with it.
   */
  bumpDependencies(deps: readonly string[]): Promise<boolean[]> {
    return this.bump(deps.map((dep) => this.layout.counter(dep)))
  }

  /** Per key, whether it has an entry, and per dependency, whether its counter exists (a dry run's matches). */
  async exist(
    keys: readonly string[],
    deps: readonly string[],
  ): Promise<{ keys: boolean[]; deps: boolean[] }> {
    const { layout, connection } = this
    const names = [...keys.map((key) => layout.entry(key)), ...deps.map((dep) => layout.counter(dep))]
    if (names.length === 0) return { keys: [], deps: [] }
    const replies = await connection.run(() =>
      connection.client.pipeline(names.map((name) => ['exists', name])).exec(),
    )
    const found = (replies ?? []).map(([error, count]) => {
      if (error) throw error
      return count === 1
    })
    return { keys: found.slice(0, keys.length), deps: found.slice(keys.length) }
  }

  /** Every fill in flight is rejected: a pattern invalidation cannot know which keys they are for. */
  async bumpPatternEpoch(): Promise<void> {
    await this.bump([this.layout.patternEpoch])
  }

  /** Invalidates every entry of the namespace (emergency clear) and every fill in flight. */
  async bumpNamespace(): Promise<void> {
    await this.bump([this.layout.namespaceGeneration, this.layout.patternEpoch])
  }

  async acquireLease(key: string, token: string, fence: Fence, px: number): Promise<boolean> {
    const { layout, connection } = this
    const taken = await connection.run(() =>
      connection.client.csLeaseAcquire(1, layout.lease(key), token, fence.keyGeneration, String(px)),
    )
    return taken === 1
  }

  async releaseLease(key: string, token: string): Promise<void> {
    const { layout, connection } = this
    await connection.run(() => connection.client.csLeaseRelease(1, layout.lease(key), token))
  }

  /** The bus channels: invalidations, and the consistency checker's L1 probes. */
  get channels(): { invalidations: string; probes: string } {
    return { invalidations: this.layout.channel, probes: this.layout.probeChannel }
  }

  /** Returns how many subscribers received the message. */
  publish(channel: string, message: string): Promise<number> {
    const client = this.connection.client
    return this.connection.run(() => client.publish(channel, message), true)
  }

  /**
   * SCANs every master (one on a standalone server) for entries whose key matches `glob` and hands them
   * over a page at a time; never KEYS, so Redis is never blocked for a whole keyspace walk.
   */
  async scanEntries(
    glob: string,
    onPage: (page: EntryPage) => Promise<void>,
    onWalked?: (walked: number) => void,
  ): Promise<void> {
    const layout = this.layout
    await this.scan(layout.entryMatch(glob), async (node, raw) => {
      if (raw.length > 0)
        await onPage({ keys: raw.map((key) => layout.keyOf(key)), unlink: () => this.unlink(node, raw) })
      onWalked?.(SCAN_COUNT)
    })
  }

  /** Times of the entries whose key matches `glob`, a SCAN page at a time (the refresh sweep). */
  async scanEntryTimes(
    glob: string,
    onPage: (entries: Array<{ key: string } & EntryTimes>) => Promise<void>,
  ): Promise<void> {
    const { layout, connection } = this
    await this.scan(layout.entryMatch(glob), async (node, raw) => {
      if (raw.length === 0) return
      const values = await connection.run(() => node.mget(...raw))
      const entries: Array<{ key: string } & EntryTimes> = []
      values.forEach((value, i) => {
        const entry = typeof value === 'string' ? decodeEntry(value) : undefined
        if (entry !== undefined) entries.push({ ...timesOf(entry), key: layout.keyOf(raw[i]!) })
      })
      await onPage(entries)
    })
  }

  /**
   * Up to `limit` user keys of entries (SCAN, never KEYS). Each call starts at a random cursor and wraps
   * around once, so repeated checks look at different entries, not the first pages every time.
   */
  async sampleEntries(limit: number): Promise<string[]> {
    const { layout, connection } = this
    const found = new Set<string>()
    const match = layout.entryMatch('*')
    for (const node of connection.nodes()) {
      // Redis masks a cursor to its table size, so any number is a valid place to start.
      let cursor = String(Math.floor(Math.random() * 2 ** 32))
      let wrapped = false
      while (found.size < limit) {
        const [next, keys] = await connection.run(() =>
          node.scan(cursor, 'MATCH', match, 'COUNT', SCAN_COUNT),
        )
        let reachedStart = false
        for (const key of keys) {
          const userKey = layout.keyOf(key)
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

  /** `INFO memory` and `INFO stats` of the server (on a Cluster, of one master). */
  async info(): Promise<string> {
    const node = this.connection.nodes()[0]!
    const [memory, stats] = await Promise.all([
      this.connection.run(() => node.info('memory')),
      this.connection.run(() => node.info('stats')),
    ])
    return `${memory}\n${stats}`
  }

  /**
   * Who serves the namespace (on a Cluster, the master of its slot: the script is routed by the namespace's
   * key, so it follows a failover), and the restart fence: the namespace generation gets a fresh value once
   * per server, so nothing written under an earlier one (a snapshot restored, a replica that had not caught
   * up) reads as valid (see restart-fence.lua). `force` bumps it whatever the fence says. It runs before
   * any other command on a new connection (see L2Connection).
   */
  async checkServer(force: boolean): Promise<ServerCheck> {
    const { layout, connection } = this
    const reply = (await connection.runFirst(() =>
      connection.client.csRestartFence(
        2,
        layout.namespaceGeneration,
        layout.restartFence,
        nonce(),
        force ? '1' : '0',
      ),
    )) as [string, string, string, string, string | null, number]
    const [runId, role, replicationId, offset, fencedBy, bumped] = reply
    return {
      runId,
      role,
      replicationId,
      replicationOffset: Number(offset),
      fencedBy: fencedBy ?? undefined,
      bumped: bumped === 1,
    }
  }

  async storeClearToken(token: string, px: number): Promise<void> {
    const { layout, connection } = this
    await connection.run(() => connection.client.set(layout.clearToken(token), '1', 'PX', px), true)
  }

  /** True when the token existed; it is gone either way (GETDEL: checking and using are one step). */
  async takeClearToken(token: string): Promise<boolean> {
    const { layout, connection } = this
    return (await connection.run(() => connection.client.getdel(layout.clearToken(token)), true)) !== null
  }

  async writeSnapshot(instanceId: string, json: string, px: number): Promise<void> {
    const { layout, connection } = this
    await connection.run(() => connection.client.set(layout.snapshot(instanceId), json, 'PX', px))
  }

  async deleteSnapshot(instanceId: string): Promise<void> {
    const { layout, connection } = this
    await connection.run(() => connection.client.del(layout.snapshot(instanceId)), true)
  }

  /** Every instance snapshot of the namespace (SCAN, never KEYS), as stored. */
  async readSnapshots(): Promise<string[]> {
    const found: string[] = []
    await this.scan(this.layout.snapshotMatch, async (node, keys) => {
      if (keys.length === 0) return
      const values = await this.connection.run(() => node.mget(...keys))
      for (const value of values) if (typeof value === 'string') found.push(value)
    })
    return found
  }

  /** Checks an entry against the counters read with it; `reply` is [entry, n, key generation, p, ...deps]. */
  private judge(
    raw: string | null,
    namespace: string | null,
    reply: ReadonlyArray<string | null> | undefined,
    now: number,
    deps: readonly string[] | undefined,
  ): L2Read | Promise<L2Read> {
    const fence = reply !== undefined && deps !== undefined ? fenceFromReply(reply, deps) : undefined
    if (raw === null) return { status: 'miss', entry: undefined, fence }
    const entry = decodeEntry(raw)
    if (entry === undefined || entry.recorded.namespaceGeneration !== namespace)
      return { status: 'invalidated', entry: undefined, fence }
    const recorded = entry.recorded.dependencies
    let unknown: DependencyVersion[] | undefined
    for (let i = 0; i < recorded.length; i++) {
      const { dependency, version } = recorded[i]!
      // Written with the caller's options (the common case), the dependencies come in the same order.
      let at = deps !== undefined && deps[i] === dependency ? i : (deps?.indexOf(dependency) ?? -1)
      if (at === -1) {
        unknown ??= []
        unknown.push(recorded[i]!)
        continue
      }
      at += 4
      if (reply![at] !== version) return { status: 'invalidated', entry: undefined, fence }
    }
    if (unknown === undefined) return timed(entry, now, fence)
    return this.holds(unknown).then((holds) =>
      holds ? timed(entry, now, fence) : { status: 'invalidated', entry: undefined, fence },
    )
  }

  /** True when every counter still holds the recorded version (a missing one does not). */
  private async holds(recorded: readonly DependencyVersion[]): Promise<boolean> {
    const { layout, connection } = this
    const current = await connection.run(() =>
      connection.client.mget(recorded.map(({ dependency }) => layout.counter(dependency))),
    )
    return recorded.every(({ version }, i) => current[i] === version)
  }

  /** Answers, per counter, whether it existed before. */
  private async bump(counters: string[]): Promise<boolean[]> {
    const connection = this.connection
    const existed = (await connection.run(
      () => connection.client.csBump(counters.length, ...counters, nonce()),
      true,
    )) as number[]
    return existed.map((one) => one === 1)
  }

  private async scan(match: string, onBatch: (node: Redis, keys: string[]) => Promise<void>): Promise<void> {
    const connection = this.connection
    for (const node of connection.nodes()) {
      let cursor = '0'
      do {
        const [next, keys] = await connection.run(
          () => node.scan(cursor, 'MATCH', match, 'COUNT', SCAN_COUNT),
          true,
        )
        cursor = next
        await onBatch(node, keys)
      } while (cursor !== '0')
    }
  }

  /** UNLINKs keys on the node that holds them, in batches; returns how many existed. */
  private async unlink(node: Redis, keys: string[]): Promise<number> {
    let removed = 0
    for (let i = 0; i < keys.length; i += UNLINK_BATCH) {
      const batch = keys.slice(i, i + UNLINK_BATCH)
      removed += await this.connection.run(() => node.unlink(...batch), true)
    }
    return removed
  }
}

/** A valid entry: fresh, stale (within grace) or gone, at `now`. */
function timed(entry: StoredEntry, now: number, fence: Fence | undefined): L2Read {
  if (now < entry.expiresAt) return { status: 'fresh', entry, fence }
  if (now < entry.graceEnd) return { status: 'stale', entry, fence }
  return { status: 'miss', entry: undefined, fence }
}

/** The fence in an MGET reply [entry, n, key generation, p, ...deps], or undefined if a counter is missing. */
function fenceFromReply(reply: ReadonlyArray<string | null>, deps: readonly string[]): Fence | undefined {
  for (let i = 1; i < reply.length; i++) if (reply[i] === null) return undefined
  return {
    namespaceGeneration: reply[1]!,
    keyGeneration: reply[2]!,
    patternEpoch: reply[3]!,
    dependencies: pair(deps, reply as string[], 4),
  }
}

/** The fence in capture.lua's answer [n, key generation, p, ...deps] starting at `at`. */
function fenceOf(versions: string[], at: number, deps: readonly string[]): Fence {
  return {
    namespaceGeneration: versions[at]!,
    keyGeneration: versions[at + 1]!,
    patternEpoch: versions[at + 2]!,
    dependencies: pair(deps, versions, at + 3),
  }
}

function pair(deps: readonly string[], versions: readonly string[], from: number): DependencyVersion[] {
  return deps.map((dependency, i) => ({ dependency, version: versions[from + i]! }))
}

function px(write: EntryWrite): string {
  return String(Math.max(1, write.graceEnd - Date.now()))
}

function timesOf(entry: StoredEntry): EntryTimes {
  return { expiresAt: entry.expiresAt, graceEnd: entry.graceEnd, createdAt: entry.createdAt }
}
