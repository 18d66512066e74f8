import {
  closeRedis,
  describeRedis,
  isCluster,
  isClusterConnection,
  openRedis,
  type RedisConnection,
} from '@cachesaga/common'
import type { Cluster, Redis } from 'ioredis'
import { attachScripts, type ScriptedClient } from '../lua/scripts.js'
import { CircuitBreaker } from './circuit-breaker.js'
import { Deadlines } from './deadlines.js'

/** Thrown instead of calling Redis while the circuit breaker is open. */
class L2Unavailable extends Error {
  override readonly name = 'L2Unavailable'
}

export interface ConnectionHooks {
  onCircuitChange(open: boolean, failures: number): void
  onClientError(error: unknown): void
  /**
   * Every time the connection becomes ready (first connect and each reconnect): the server check. Other
   * commands wait until it settles (see `runFirst`).
   */
  onReady(): Promise<void>
}

export interface ConnectionOptions {
  timeoutMs: number
  breaker: { failures: number; openFor: number }
}

/**
 * The cache's own connection to Redis, opened with common's `openRedis` (a client handed in is duplicated,
 * never closed), behind a circuit breaker. Every call is bounded by the L2 timeout (see Deadlines: one timer
 * for all calls instead of ioredis' timer per command), so none hangs on a paused or blackholed server.
 * Only the Redis protocol uses it.
 */
export class L2Connection {
  readonly client: ScriptedClient
  readonly breaker: CircuitBreaker
  /** The connection as people may read it: the URL with its password redacted, or the nodes. */
  readonly target: string
  private readonly isCluster: boolean
  private readonly deadlines: Deadlines
  private failures = 0
  /** True from a recycle until the fresh connection is ready. */
  private recycling = false
  /** Commands sent and not yet answered. */
  private inFlight = 0
  /** The socket held corked until the end of this tick, if any. */
  private corked: { cork(): void; uncork(): void } | undefined
  /** Set from a close until the server check on the next connection settled: commands wait for it. */
  private checked: Promise<void> | undefined
  private releaseChecked: () => void = () => {}
  /** Counts 'ready's, so that only the check of the latest connection releases the commands. */
  private readies = 0

  constructor(
    private readonly connection: RedisConnection,
    private readonly options: ConnectionOptions,
    hooks: ConnectionHooks,
  ) {
    // A Cluster routes commands to node clients of its own: there ioredis' per-command timeout stays on.
    const cluster = isClusterConnection(connection)
    const client = openRedis(connection, {
      maxRetriesPerRequest: 0,
      ...(cluster ? { commandTimeoutMs: options.timeoutMs } : {}),
    })
    this.deadlines = new Deadlines(
      options.timeoutMs,
      () => new Error(`Redis command timed out after ${options.timeoutMs} ms`),
    )
    this.target = describeRedis(connection)
    client.on('error', (error: unknown) => hooks.onClientError(error))
    this.isCluster = isCluster(client)
    this.client = attachScripts(client)
    if (!cluster) this.boundHandshake(client as Redis, Math.max(1_000, 4 * options.timeoutMs))
    // A server met on a new connection may be a restarted or promoted one holding older data than the
    // last one: no command reaches it before the server check has fenced that data (see checkServer).
    this.holdCommands()
    client.on('close', () => this.holdCommands())
    client.on('ready', () => {
      this.recycling = false
      const ready = ++this.readies
      void hooks.onReady().finally(() => {
        if (ready === this.readies && client.status === 'ready') this.releaseCommands()
      })
    })
    this.breaker = new CircuitBreaker(options.breaker.failures, options.breaker.openFor, (open) => {
      hooks.onCircuitChange(open, this.failures)
    })
  }

  /**
   * Runs one Redis call through the breaker; `force` bypasses an open breaker (invalidations must be tried).
   * After a (re)connect the call waits for the server check, within its own timeout.
   */
  run<T>(call: () => Promise<T>, force = false): Promise<T> {
    if (!force && !this.breaker.allows())
      return Promise.reject(new L2Unavailable('Redis skipped: circuit breaker open'))
    const checked = this.checked
    if (checked !== undefined) return this.bound(checked.then(call))
    if (this.inFlight > 0) this.coalesce()
    return this.bound(invoke(call))
  }

  /** The server check's own call: it runs before the commands held for it, whatever the breaker says. */
  runFirst<T>(call: () => Promise<T>): Promise<T> {
    return this.bound(invoke(call))
  }

  private bound<T>(pending: Promise<T>): Promise<T> {
    this.inFlight++
    return this.deadlines.bound(pending, this.settled)
  }

  private holdCommands(): void {
    if (this.checked !== undefined) return
    this.checked = new Promise((resolve) => {
      this.releaseChecked = resolve
    })
  }

  private releaseCommands(): void {
    this.checked = undefined
    this.releaseChecked()
  }

  /** Every call's outcome, once: in flight, breaker, and a fresh connection after a timeout. */
  private readonly settled = (error: unknown): void => {
    this.inFlight--
    if (error === undefined) {
      this.failures = 0
      this.breaker.success()
      return
    }
    this.failures++
    this.breaker.failure()
    if (isTimeout(error)) this.recycle()
  }

  /**
   * Without ioredis' per-command timeout its ready check (an INFO sent once the socket is up) could wait
   * forever on a paused or blackholed server: a connection not ready in time is dropped and tried again.
   */
  private boundHandshake(client: Redis, ms: number): void {
    let timer: NodeJS.Timeout | undefined
    client.on('connect', () => {
      clearTimeout(timer)
      timer = setTimeout(() => {
        if (client.status !== 'ready') client.disconnect(true)
      }, ms)
      timer.unref()
    })
    client.on('ready', () => clearTimeout(timer))
    client.on('end', () => clearTimeout(timer))
  }

  /**
   * While commands are in flight (concurrent callers), the ones issued in this tick are written to the
   * socket together at its end: one write instead of one per command, for the kernel and for Redis. Each
   * is still its own command with its own timeout and breaker accounting; a lone caller is not delayed.
   * On a Cluster ioredis writes to the node's socket, which this does not reach: there commands go as they come.
   */
  private coalesce(): void {
    if (this.corked !== undefined || this.isCluster) return
    const stream = (this.client as Redis).stream as
      | { cork(): void; uncork(): void; writable?: boolean }
      | undefined
    if (stream === undefined || stream.writable === false) return
    stream.cork()
    this.corked = stream
    process.nextTick(() => {
      this.corked = undefined
      stream.uncork()
    })
  }

  /** The masters to SCAN or ask for INFO: every master of a Cluster, else the one server. */
  nodes(): Redis[] {
    return isCluster(this.client) ? this.client.nodes('master') : [this.client as Redis]
  }

  /**
   * A second connection for the bus subscriber, with the same timeout. The bus subscribes again itself on
   * every 'ready'; ioredis' own resubscribe would be a second SUBSCRIBE whose promise nobody holds, an
   * unhandled rejection when the connection closes before Redis answers it.
   */
  openSubscriber(): Redis | Cluster {
    return openRedis(this.connection, {
      commandTimeoutMs: this.options.timeoutMs,
      maxRetriesPerRequest: 0,
      ...(this.isCluster ? {} : { autoResubscribe: false }),
    })
  }

  async close(): Promise<void> {
    await closeRedis(this.client, this.options.timeoutMs)
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
}

/** `call()`'s promise; a synchronous throw becomes a rejection. */
function invoke<T>(call: () => Promise<T>): Promise<T> {
  try {
    return call()
  } catch (error) {
    return Promise.reject(error)
  }
}

function isTimeout(error: unknown): boolean {
  return error instanceof Error && /timed out/i.test(error.message)
}
