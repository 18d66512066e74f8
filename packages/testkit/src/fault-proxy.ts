import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net'
import { performance } from 'node:perf_hooks'
import { z } from 'zod'
import { parseInput } from './parse-input.js'

export interface FaultProxyOptions {
  /** Where the proxy forwards connections, e.g. a `startRedis()` handle. */
  target: { host: string; port: number }
}

/**
 * A TCP proxy between a client and a server that injects network faults on command.
 * Faults apply to every connection, open or future, until changed.
 */
export interface FaultProxy {
  /** The loopback port clients connect to. */
  readonly port: number
  /** `redis://127.0.0.1:<port>`: point a Redis client here instead of at the target. */
  readonly url: string
  /** Delays every chunk by `ms` in each direction (a round trip costs twice), keeping order. 0 turns it off. */
  setLatency(ms: number): void
  /**
   * While on, connections stay open (and new ones are accepted) but every byte either way is dropped,
   * as in a partition that outlives TCP retransmission: only a client-side timeout notices.
   * Dropped bytes are never replayed, so a client that kept its connection through the blackhole may
   * still wait for replies that will not come (ioredis keeps timed-out commands queued); it recovers
   * once it drops the connection (ioredis `socketTimeout`), or at once after `resetAll()`.
   */
  blackhole(on: boolean): void
  /** Tears down every open connection with a TCP RST, on both the client and the server side. */
  resetAll(): void
  /** Resets every connection and stops listening. */
  close(): Promise<void>
}

const optionsSchema = z.strictObject({
  // Not strict: a `startRedis()` handle can be passed as the target as it is.
  target: z.object({ host: z.string().min(1), port: z.int().min(1).max(65_535) }),
})
const latencySchema = z.number().min(0).finite()

interface Faults {
  latencyMs: number
  blackholed: boolean
}

/** Forwards chunks to `to`, each no earlier than its due time and never ahead of an earlier chunk. */
class DelayedWriter {
  private readonly pending: Array<{ due: number; chunk: Buffer }> = []
  private timer: NodeJS.Timeout | undefined
  private lastDue = 0
  private ending = false

  constructor(private readonly to: Socket) {}

  write(chunk: Buffer, delayMs: number): void {
    const due = Math.max(performance.now() + delayMs, this.lastDue)
    this.lastDue = due
    if (delayMs === 0 && this.pending.length === 0) {
      this.to.write(chunk)
      return
    }
    this.pending.push({ due, chunk })
    this.schedule()
  }

  /** Ends `to` once every pending chunk has been written. */
  end(): void {
    this.ending = true
    if (this.pending.length === 0) this.to.end()
  }

  discard(): void {
    clearTimeout(this.timer)
    this.pending.length = 0
  }

  private schedule(): void {
    const head = this.pending[0]
    if (this.timer || !head) return
    // Timers may fire a little early against performance.now(); flush re-checks and re-arms.
    this.timer = setTimeout(() => this.flush(), Math.max(1, Math.ceil(head.due - performance.now())))
  }

  private flush(): void {
    this.timer = undefined
    const now = performance.now()
    while (this.pending[0] && this.pending[0].due <= now) {
      const { chunk } = this.pending.shift()!
      if (!this.to.destroyed) this.to.write(chunk)
    }
    if (this.pending.length > 0) this.schedule()
    else if (this.ending) this.to.end()
  }
}

/** One client connection and its upstream twin. */
class ProxiedConnection {
  private readonly upstream: Socket
  private readonly toUpstream: DelayedWriter
  private readonly toClient: DelayedWriter

  constructor(
    private readonly client: Socket,
    target: { host: string; port: number },
    faults: Faults,
    onClosed: () => void,
  ) {
    this.upstream = tcpConnect(target)
    this.toUpstream = new DelayedWriter(this.upstream)
    this.toClient = new DelayedWriter(client)
    this.forward(client, this.toUpstream, this.upstream, faults)
    this.forward(this.upstream, this.toClient, client, faults)
    let closed = 0
    const closeOne = () => {
      if (++closed === 2) onClosed()
    }
    client.once('close', closeOne)
    this.upstream.once('close', closeOne)
  }

  private forward(from: Socket, writer: DelayedWriter, to: Socket, faults: Faults): void {
    from.on('data', (chunk: Buffer) => {
      if (!faults.blackholed) writer.write(chunk, faults.latencyMs)
    })
    from.on('end', () => writer.end())
    // An abrupt failure on one side (refused, reset) is passed on abruptly, not as a clean close.
    from.on('error', () => {
      writer.discard()
      if (!to.destroyed) to.resetAndDestroy()
    })
  }

  reset(): void {
    this.toUpstream.discard()
    this.toClient.discard()
    if (!this.client.destroyed) this.client.resetAndDestroy()
    if (!this.upstream.destroyed) this.upstream.resetAndDestroy()
  }
}

/** Starts a fault proxy on a kernel-chosen loopback port in front of `options.target`. */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const { target } = parseInput(optionsSchema, options, 'startFaultProxy.options')
  const faults: Faults = { latencyMs: 0, blackholed: false }
  const connections = new Set<ProxiedConnection>()

  const server: Server = createServer((client) => {
    const connection = new ProxiedConnection(client, target, faults, () => connections.delete(connection))
    connections.add(connection)
  })
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      if (address && typeof address === 'object') resolve(address.port)
      else reject(new Error('the fault proxy has no TCP address'))
    })
  })

  const resetAll = () => {
    for (const connection of connections) connection.reset()
    connections.clear()
  }
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    setLatency(ms) {
      faults.latencyMs = parseInput(latencySchema, ms, 'setLatency.ms')
    },
    blackhole(on) {
      faults.blackholed = on
    },
    resetAll,
    async close() {
      resetAll()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
