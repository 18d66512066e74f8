import type { Cluster, Redis } from 'ioredis'
import type { L1DropReason } from '../events.js'
import { PublishQueue } from './publish-queue.js'
import { SequenceTracker } from './sequence-tracker.js'
import { type BusMessage, decode, encode, type L1Invalidation, WIRE_VERSION } from './wire-format.js'

/** What the bus does to this instance's L1; the cache implements it. */
export interface BusReceiver {
  apply(invalidation: L1Invalidation, from: string, seq: number, lagMs: number | undefined): void
  dropL1(reason: L1DropReason): void
  /**
   * L1 may be read and written until `time` (ms since the epoch): the last sign of life of the bus plus the
   * outage bound; `-Infinity` while the bus is not subscribed (it may be missing invalidations).
   */
  serveL1Until(time: number): void
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
 * Cross-instance L1 invalidation over Redis pub/sub. Pub/sub is at-most-once, so every way a message can be
 * lost makes the receiver drop its whole L1:
 * - a gap in a sender's sequence (a message lost between two others);
 * - a subscriber reconnect (messages sent while it was away are gone);
 * - silence: L1 answers only until `outageBoundMs` after the last sign of life of the subscriber
 *   connection (a message, or the reply to a heartbeat PING). Whatever was published before that sign was
 *   delivered (one connection, in order), so a partition, a paused Redis or a blackholed connection that
 *   never closes costs at most `outageBoundMs` of L1 answers after the last message this instance got,
 *   however late the loss is noticed. Then L1 is dropped and stays off until the subscriber is back.
 * The heartbeat PINGs only after `outageBoundMs / 2` of silence (any message counts), so a healthy
 * connection always has a sign of life well before the bound: at most two PINGs per `outageBoundMs` per
 * instance (0.4 a second with the default 5 s), none while messages flow.
 */
export class Bus {
  private readonly sequences = new SequenceTracker()
  private readonly queue: PublishQueue
  private seq = 0
  private connectedOnce = false
  /** When the subscriber last showed life (ms since the epoch); undefined while it is not subscribed. */
  private lastHeard: number | undefined
  private readonly heartbeatMs: number
  private watchdog: NodeJS.Timeout | undefined
  private pinging = false
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
    this.heartbeatMs = Math.max(25, options.outageBoundMs / 2)
    subscriber.on('error', (error: unknown) => {
      this.lastError = error
      receiver.failed('bus.subscriber', error)
    })
    subscriber.on('message', (channel: string, raw: string) => {
      this.heard()
      if (channel === options.channel) this.receive(raw)
      else if (channel === options.probeChannel) receiver.probed(raw)
    })
    subscriber.on('ready', () => void this.connected())
    this.subscribed = new Promise((resolve) => {
      this.markSubscribed = resolve
    })
    receiver.serveL1Until(Number.NEGATIVE_INFINITY)
  }

  /** Resolves once the first subscription is confirmed; L1 stays suspended until then. */
  readonly subscribed: Promise<void>
  private markSubscribed: () => void = () => {}

  /** The subscriber's latest failure, for a message that says why it is not subscribed. */
  lastError: unknown

  /** When the subscriber last showed life (ms since the epoch); undefined while it is not subscribed. */
  get lastSignOfLife(): number | undefined {
    return this.lastHeard
  }

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

  /** Resolves once every message published so far was accepted by Redis (see PublishQueue.drained). */
  drained(): Promise<void> {
    return this.queue.drained()
  }

  async close(): Promise<void> {
    this.closed = true
    clearTimeout(this.watchdog)
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

  /** A sign of life of the subscribed connection: L1 may answer until the bound from now. */
  private heard(): void {
    if (this.lastHeard === undefined || this.closed) return
    const now = Date.now()
    // Heard too late: the bound ran out before (the watchdog may not have run yet on a busy loop).
    if (now - this.lastHeard >= this.options.outageBoundMs) {
      this.outage()
      return
    }
    this.lastHeard = now
    this.receiver.serveL1Until(now + this.options.outageBoundMs)
  }

  /**
   * Runs when the next thing is due: a heartbeat after `heartbeatMs` of silence, the outage at the bound.
   * Armed again from here only, so a message costs no timer work; it just moves `lastHeard`.
   */
  private tick(): void {
    this.watchdog = undefined
    if (this.closed || this.lastHeard === undefined) return
    const silentMs = Date.now() - this.lastHeard
    if (silentMs >= this.options.outageBoundMs) {
      this.outage()
      return
    }
    if (silentMs >= this.heartbeatMs) void this.ping()
    const next =
      silentMs >= this.heartbeatMs
        ? this.lastHeard + this.options.outageBoundMs
        : this.lastHeard + this.heartbeatMs
    this.arm(next)
  }

  private arm(at: number): void {
    clearTimeout(this.watchdog)
    this.watchdog = setTimeout(() => this.tick(), Math.max(0, at - Date.now()))
    this.watchdog.unref()
  }

  /** Silent for the whole bound: messages may have been missed. L1 goes, and stays off until resubscribed. */
  private outage(): void {
    this.lastHeard = undefined
    clearTimeout(this.watchdog)
    this.watchdog = undefined
    this.receiver.serveL1Until(Number.NEGATIVE_INFINITY)
    this.receiver.dropL1('outage')
    // A connection that stays open but carries nothing (blackholed) would never come back: recycle it.
    if (this.subscriber.status === 'ready') this.subscriber.disconnect(true)
  }

  private async connected(): Promise<void> {
    if (this.closed) return
    const reconnect = this.connectedOnce
    // Nothing heard on an earlier connection counts for this one.
    this.lastHeard = undefined
    this.receiver.serveL1Until(Number.NEGATIVE_INFINITY)
    if (reconnect) {
      // Messages sent while we were away are lost: serve no L1 entry from before the reconnect.
      this.receiver.dropL1('reconnect')
      this.sequences.reset()
    }
    try {
      await this.subscriber.subscribe(this.options.channel, this.options.probeChannel)
    } catch (error) {
      this.lastError = error
      this.receiver.failed('bus.subscribe', error)
      if (this.subscriber.status === 'ready') this.subscriber.disconnect(true)
      return
    }
    if (this.closed) return
    this.connectedOnce = true
    if (reconnect) this.receiver.dropL1('reconnect')
    this.lastHeard = Date.now()
    this.receiver.serveL1Until(this.lastHeard + this.options.outageBoundMs)
    this.arm(this.lastHeard + this.heartbeatMs)
    this.markSubscribed()
  }

  private async ping(): Promise<void> {
    if (this.pinging || this.closed || this.subscriber.status !== 'ready') return
    this.pinging = true
    try {
      await this.subscriber.ping()
      this.heard()
    } catch (error) {
      this.receiver.failed('bus.heartbeat', error)
      // A connection that cannot answer may be blackholed without ever closing: recycle it.
      if (this.subscriber.status === 'ready') this.subscriber.disconnect(true)
    } finally {
      this.pinging = false
    }
  }
}
