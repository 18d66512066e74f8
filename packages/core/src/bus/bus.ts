import type { Cluster, Redis } from 'ioredis'
import type { L1DropReason } from '../events.js'
import { PublishQueue } from './publish-queue.js'
import { SequenceTracker } from './sequence-tracker.js'
import { type BusMessage, decode, encode, type L1Invalidation, WIRE_VERSION } from './wire-format.js'

/** What the bus does to this instance's L1; the cache implements it. */
export interface BusReceiver {
  apply(invalidation: L1Invalidation, from: string, seq: number, lagMs: number | undefined): void
  dropL1(reason: L1DropReason): void
  /** While suspended, L1 is neither read nor written (the bus may be missing invalidations). */
  suspendL1(suspended: boolean): void
  published(): void
  failed(operation: string, error: unknown): void
  /** A message on the probe channel (see L1Probe). */
  probed(raw: string): void
}

export interface BusOptions {
  channel: string
  /** Channel of the L1 probe requests and replies. */
  probeChannel: string
  instanceId: string
  outageBoundMs: number
  queueLimit: number
}

/**
 * Cross-instance L1 invalidation over Redis pub/sub. Pub/sub is at-most-once, so every way a
 * message can be lost makes the receiver drop its whole L1: a gap in a sender's sequence, a
 * subscriber reconnect, or an outage longer than `outageBoundMs` (detected by close events and
 * by a heartbeat PING, which also catches a blackholed connection that never closes).
 */
export class Bus {
  private readonly sequences = new SequenceTracker()
  private readonly queue: PublishQueue
  private seq = 0
  private connectedOnce = false
  private outageTimer: NodeJS.Timeout | undefined
  private readonly heartbeat: NodeJS.Timeout
  private closed = false

  constructor(
    private readonly subscriber: Redis | Cluster,
    publish: (channel: string, payload: string) => Promise<void>,
    private readonly options: BusOptions,
    private readonly receiver: BusReceiver,
  ) {
    this.queue = new PublishQueue(
      (payload) => publish(options.channel, payload),
      options.queueLimit,
      () => receiver.published(),
      (error) => receiver.failed('bus.publish', error),
    )
    subscriber.on('error', (error: unknown) => {
      this.lastError = error
      receiver.failed('bus.subscriber', error)
    })
    subscriber.on('message', (channel: string, raw: string) => {
      if (channel === options.channel) this.receive(raw)
      else if (channel === options.probeChannel) receiver.probed(raw)
    })
    subscriber.on('close', () => this.lost())
    subscriber.on('ready', () => void this.connected())
    this.subscribed = new Promise((resolve) => {
      this.markSubscribed = resolve
    })
    receiver.suspendL1(true)
    this.heartbeat = setInterval(() => void this.ping(), Math.max(50, options.outageBoundMs / 2))
    this.heartbeat.unref()
  }

  /** Resolves once the first subscription is confirmed; L1 stays suspended until then. */
  readonly subscribed: Promise<void>
  private markSubscribed: () => void = () => {}

  /** The subscriber's latest failure, for a message that says why it is not subscribed. */
  lastError: unknown

  get queued(): number {
    return this.queue.size
  }

  /** True when Redis accepted the message now; false when it waits in the retry queue. */
  publish(invalidation: L1Invalidation): Promise<boolean> {
    this.seq++
    const message: BusMessage = {
      v: WIRE_VERSION,
      from: this.options.instanceId,
      seq: this.seq,
      at: Date.now(),
      ...invalidation,
    }
    return this.queue.publish(encode(message))
  }

  async close(): Promise<void> {
    this.closed = true
    clearInterval(this.heartbeat)
    clearTimeout(this.outageTimer)
    this.queue.stop()
    this.subscriber.disconnect()
  }

  private receive(raw: string): void {
    const message = decode(raw)
    if (message === undefined) {
      this.receiver.dropL1('unreadable-message')
      return
    }
    if (message.from === this.options.instanceId) return
    if (!this.sequences.accept(message.from, message.seq)) this.receiver.dropL1('gap')
    this.receiver.apply(
      message,
      message.from,
      message.seq,
      message.at === undefined ? undefined : Math.max(0, Date.now() - message.at),
    )
  }

  private lost(): void {
    if (this.closed || this.outageTimer !== undefined) return
    this.outageTimer = setTimeout(() => {
      this.receiver.dropL1('outage')
      this.receiver.suspendL1(true)
    }, this.options.outageBoundMs)
    this.outageTimer.unref()
  }

  private async connected(): Promise<void> {
    if (this.closed) return
    const reconnect = this.connectedOnce
    if (reconnect) {
      // Messages sent while we were away are lost: serve no L1 entry from before the reconnect.
      this.receiver.suspendL1(true)
      this.receiver.dropL1('reconnect')
      this.sequences.reset()
    }
    try {
      await this.subscriber.subscribe(this.options.channel, this.options.probeChannel)
    } catch (error) {
      this.lastError = error
      this.receiver.failed('bus.subscribe', error)
      this.lost()
      return
    }
    this.connectedOnce = true
    clearTimeout(this.outageTimer)
    this.outageTimer = undefined
    if (reconnect) this.receiver.dropL1('reconnect')
    this.receiver.suspendL1(false)
    this.markSubscribed()
  }

  private async ping(): Promise<void> {
    if (this.closed || this.subscriber.status !== 'ready') return
    try {
      await this.subscriber.ping()
    } catch (error) {
      this.receiver.failed('bus.heartbeat', error)
      // A connection that cannot answer may be blackholed without ever closing: recycle it.
      this.lost()
      this.subscriber.disconnect(true)
    }
  }
}
