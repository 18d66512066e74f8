import { randomBytes } from 'node:crypto'
import { Bus, type BusReceiver } from './bus/bus.js'
import { L1Probe } from './bus/l1-probe.js'
import type { L1Invalidation } from './bus/wire-format.js'
import { type EntryOptions, EntryOptionsResolver } from './config/entry-options.js'
import type { ResolvedOptions } from './config/options.js'
import { ScopeTree } from './config/scope-tree.js'
import { ConsistencyChecker } from './consistency/checker.js'
import { describeL1 } from './consistency/l1-copies.js'
import { CacheEventEmitter, type L1DropReason } from './events.js'
import { Invalidator } from './invalidation/invalidator.js'
import { SnapshotPublisher } from './metrics/snapshots.js'
import { StatsCollector } from './metrics/stats.js'
import { GetMany } from './read/get-many.js'
import { GetOrSet } from './read/get-or-set.js'
import { LeaseWaiter } from './read/lease.js'
import { LoaderRunner } from './read/loader-runner.js'
import { RefreshAhead } from './read/refresh-ahead.js'
import { L2Connection } from './redis/connection.js'
import { RedisProtocol } from './redis/redis-protocol.js'
import { ServerWatch } from './redis/server-watch.js'
import { CacheStack } from './stack/cache-stack.js'
import { L1Memory } from './tiers/l1-memory.js'
import { LocalEpochs } from './tiers/local-epochs.js'
import { ValueCodec } from './values/value-codec.js'
import { Warmer } from './warming/warmer.js'

/** The parts of one cache, as the composition root wired them; only `Cache` (and test support) holds this. */
export interface CacheParts {
  readonly options: ResolvedOptions
  readonly instanceId: string
  readonly events: CacheEventEmitter
  readonly stats: StatsCollector
  readonly l1: L1Memory
  readonly epochs: LocalEpochs
  readonly codec: ValueCodec
  readonly entryOptions: EntryOptionsResolver
  readonly connection: L2Connection | undefined
  readonly protocol: RedisProtocol | undefined
  readonly bus: Bus | undefined
  /** What the bus does to this instance (test support wraps `apply` to drop messages). */
  readonly busReceiver: BusReceiver
  readonly stack: CacheStack
  readonly flow: GetOrSet
  readonly many: GetMany
  readonly refresh: RefreshAhead
  readonly invalidator: Invalidator
  readonly snapshots: SnapshotPublisher | undefined
  readonly serverWatch: ServerWatch | undefined
  readonly warmer: Warmer
  readonly checker: ConsistencyChecker
}

/** The facade's own operations that parts built here call back into. */
export interface FacadeCalls {
  invalidate(target: { keys: string[] }): Promise<unknown>
  /** The public getOrSet (it validates the key). */
  getOrSet(key: string, loader: () => unknown, entry?: EntryOptions): Promise<unknown>
  snapshot(): Promise<{ stats: ReturnType<StatsCollector['snapshot']>; health: unknown }>
}

/** The one composition root: builds every part of a cache from its validated options. */
export function composeCache(options: ResolvedOptions, facade: FacadeCalls): CacheParts {
  const instanceId = randomBytes(8).toString('hex')
  const stats = new StatsCollector()
  const events = new CacheEventEmitter()
  const l1 = new L1Memory(options.l1.maxEntries, options.l1.maxAge)
  const epochs = new LocalEpochs()
  const codec = new ValueCodec(options.serializer ?? JSON, () => stats.unserializable++)
  const scopes = new ScopeTree(options.scopeLevels)
  const entryOptions = new EntryOptionsResolver(options.ttl, options.grace, scopes)
  const absorb = (operation: string, error: unknown, key?: string) => {
    if (operation.startsWith('l2') || operation.startsWith('bus')) stats.l2Errors++
    events.emit('error', key === undefined ? { operation, error } : { operation, key, error })
  }
  // Created below; the connection's 'ready' reaches it through this late-bound reference.
  let serverWatch: ServerWatch | undefined
  const connection =
    options.redis === false
      ? undefined
      : new L2Connection(
          options.redis,
          { timeoutMs: options.l2.timeout, breaker: options.l2.breaker },
          {
            onCircuitChange: (open, failures) =>
              open ? events.emit('circuit:open', { failures }) : events.emit('circuit:close', {}),
            onClientError: (error) => events.emit('error', { operation: 'l2.connection', error }),
            onReady: () => serverWatch?.check() ?? Promise.resolve(),
          },
        )
  const protocol =
    connection === undefined ? undefined : new RedisProtocol(connection, options.namespace, options.tenant)
  const valueText = (value: unknown) => codec.text(value)
  const probe =
    protocol === undefined
      ? undefined
      : new L1Probe(
          instanceId,
          (payload) => protocol.publish(protocol.channels.probes, payload),
          (keys, sample) => describeL1(l1, keys, sample, valueText),
          absorb,
        )

  // The invalidator is created below; the bus receiver reaches it through this late-bound reference.
  let invalidator: Invalidator | undefined
  const dropL1 = (reason: L1DropReason) => {
    if (reason === 'gap') stats.busGaps++
    stats.l1Drops++
    epochs.bumpAll()
    l1.clear()
    events.emit('l1:dropped', { reason })
  }
  const busReceiver: BusReceiver = {
    apply: (invalidation, from, seq, lagMs) => {
      stats.busReceived++
      invalidator?.applyLocally(invalidation, undefined)
      events.emit('bus:message', lagMs === undefined ? { from, seq } : { from, seq, lagMs })
    },
    dropL1,
    serveL1Until: (time) => {
      l1.servesUntil = time
    },
    published: () => {
      stats.busPublished++
    },
    failed: absorb,
    probed: (raw) => probe?.receive(raw),
  }
  const bus =
    connection === undefined || protocol === undefined
      ? undefined
      : new Bus(
          connection.openSubscriber(),
          async (channel, payload) => {
            await protocol.publish(channel, payload)
          },
          {
            channel: protocol.channels.invalidations,
            probeChannel: protocol.channels.probes,
            instanceId,
            outageBoundMs: options.bus.outageBound,
            queueLimit: options.bus.retryQueue,
          },
          // Called through the object each time, so test support can wrap one of its methods.
          {
            apply: (...args) => busReceiver.apply(...args),
            dropL1: (reason) => busReceiver.dropL1(reason),
            serveL1Until: (time) => busReceiver.serveL1Until(time),
            published: () => busReceiver.published(),
            failed: (operation, error) => busReceiver.failed(operation, error),
            probed: (raw) => busReceiver.probed(raw),
          },
        )
  if (protocol !== undefined) {
    serverWatch = new ServerWatch(
      (force) => protocol.checkServer(force),
      {
        changed: (restart, fenced) => {
          dropL1('redis-restart')
          // Its check made every entry in Redis invalid: the other instances drop their L1 now, not at their
          // own next check.
          if (fenced) void bus?.publish({ clear: true })
          events.emit('redis:restart', restart)
        },
        absorb,
      },
      options.l2.serverCheckEvery,
    )
    if (connection?.client.status === 'ready') void serverWatch.check()
  }
  const publish = bus === undefined ? undefined : (invalidation: L1Invalidation) => bus.publish(invalidation)

  const fraction = options.refreshAhead
  const stack = new CacheStack({
    l1,
    epochs,
    l2: protocol,
    codec,
    stats,
    events,
    absorb,
    publish,
    jitterMs: options.jitter,
    refreshFraction: fraction > 0 && fraction < 1 ? fraction : 0,
  })
  const loaders = new LoaderRunner(
    stack,
    { timeouts: options.timeouts, graceBackoffMs: options.graceBackoff },
    stats,
    events,
    absorb,
  )
  const refresh = new RefreshAhead(stack, stats, absorb)
  const lease =
    protocol === undefined || options.lease === undefined
      ? undefined
      : new LeaseWaiter(protocol, stack, options.lease, instanceId, absorb)
  const identity = { namespace: options.namespace, tenant: options.tenant }
  const flow = new GetOrSet({ stack, entryOptions, loaders, refresh, lease, stats, events, identity, absorb })
  const many = new GetMany({ stack, entryOptions, stats, events, timeouts: options.timeouts, absorb })
  invalidator = new Invalidator({
    l2: protocol,
    l1,
    epochs,
    events,
    scopes,
    bus,
    timeoutMs: options.invalidate.timeout,
    identity,
  })

  const snapshots =
    protocol === undefined || options.snapshotEvery === false
      ? undefined
      : new SnapshotPublisher(
          protocol,
          instanceId,
          options.snapshotEvery,
          () => facade.snapshot() as Promise<never>,
          absorb,
        )
  const warmer = new Warmer({
    l2: protocol,
    l1Size: () => l1.size,
    hitCounts: () => ({ calls: stats.l1Hits + stats.l1Misses, hits: stats.l1Hits + stats.l2Hits }),
    entryOptions,
    getOrSet: (key, loader, entry) => facade.getOrSet(key, loader, entry),
    reload: (key, loader, resolved, current, fence) => refresh.reload(key, loader, resolved, current, fence),
    absorb,
  })
  const checker = new ConsistencyChecker({
    l2: protocol,
    l1,
    instanceId,
    valueText,
    probe: probe === undefined ? undefined : (keys, sample, timeoutMs) => probe.ask(keys, sample, timeoutMs),
    heal: (keys) => facade.invalidate({ keys }),
  })
  return {
    options,
    instanceId,
    events,
    stats,
    l1,
    epochs,
    codec,
    entryOptions,
    connection,
    protocol,
    bus,
    busReceiver,
    stack,
    flow,
    many,
    refresh,
    invalidator,
    snapshots,
    serverWatch,
    warmer,
    checker,
  }
}
