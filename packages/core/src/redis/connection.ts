import { closeRedis, describeRedis, isCluster, openRedis, type RedisConnection } from '@cachesaga/common'
import type { Cluster, Redis } from 'ioredis'
import { attachScripts, type ScriptedClient } from '../lua/scripts.js'
import { CircuitBreaker } from './circuit-breaker.js'

/** Thrown instead of calling Redis while the circuit breaker is open. */
class L2Unavailable extends Error {
  override readonly name = 'L2Unavailable'
}

export interface ConnectionHooks {
  onCircuitChange(open: boolean, failures: number): void
  onClientError(error: unknown): void
  /** Every time the connection becomes ready (first connect and each reconnect). */
  onReady(): void
}

export interface ConnectionOptions {
  timeoutMs: number
  breaker: { failures: number; openFor: number }
}

function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis command timed out after ${ms} ms`)), ms)
  })
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer))
}

/**
 * The cache's own connection to Redis, opened with common's `openRedis` (a client handed in is duplicated,
 * never closed) with a per-command timeout, so no call hangs on a paused or blackholed server, behind a
 * circuit breaker. Only the Redis protocol uses it.
 */
export class L2Connection {
  readonly client: ScriptedClient
  readonly breaker: CircuitBreaker
  /** The connection as people may read it: the URL with its password redacted, or the nodes. */
  readonly target: string
  private readonly isCluster: boolean
  private failures = 0
  /** True from a recycle until the fresh connection is ready. */
  private recycling = false

  constructor(
    private readonly connection: RedisConnection,
    private readonly options: ConnectionOptions,
    hooks: ConnectionHooks,
  ) {
    const client = openRedis(connection, { commandTimeoutMs: options.timeoutMs, maxRetriesPerRequest: 0 })
    this.target = describeRedis(connection)
    client.on('error', (error: unknown) => hooks.onClientError(error))
    this.isCluster = isCluster(client)
    this.client = attachScripts(client)
    client.on('ready', () => {
      this.recycling = false
      hooks.onReady()
    })
    this.breaker = new CircuitBreaker(options.breaker.failures, options.breaker.openFor, (open) => {
      hooks.onCircuitChange(open, this.failures)
    })
  }

  /** Runs one Redis call through the breaker; `force` bypasses an open breaker (invalidations must be tried). */
  async run<T>(call: () => Promise<T>, force = false): Promise<T> {
    if (!force && !this.breaker.allows()) throw new L2Unavailable('Redis skipped: circuit breaker open')
    try {
      const result = await (this.isCluster ? withDeadline(call(), this.options.timeoutMs) : call())
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

function isTimeout(error: unknown): boolean {
  return error instanceof Error && /timed out/i.test(error.message)
}
