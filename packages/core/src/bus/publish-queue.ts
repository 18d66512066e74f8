const FIRST_RETRY_MS = 50
const MAX_RETRY_MS = 2_000

/**
 * Sends messages in order; the ones that fail wait here and are retried with backoff. A message
 * is only ever counted as published once Redis accepted it. When full, the oldest is dropped:
 * receivers then see a sequence gap and drop their L1, which is the safe outcome.
 */
export class PublishQueue {
  private readonly waiting: string[] = []
  private timer: NodeJS.Timeout | undefined
  private delay = FIRST_RETRY_MS
  private flushing = false
  /** Waiting for the queue to empty (see `drained`). */
  private drainWaiters: Array<() => void> = []

  constructor(
    private readonly send: (payload: string) => Promise<void>,
    private readonly limit: number,
    private readonly onSent: () => void,
    private readonly onFailure: (error: unknown) => void,
  ) {}

  get size(): number {
    return this.waiting.length
  }

  /** True when sent now; false when queued for a retry. */
  async publish(payload: string): Promise<boolean> {
    if (this.waiting.length > 0 || this.flushing) {
      this.enqueue(payload)
      return false
    }
    try {
      await this.send(payload)
      this.onSent()
      return true
    } catch (error) {
      this.onFailure(error)
      this.enqueue(payload)
      return false
    }
  }

  /** Resolves once every message queued so far was sent (or dropped for room, which receivers see as a gap). */
  drained(): Promise<void> {
    if (this.waiting.length === 0 && !this.flushing) return Promise.resolve()
    return new Promise((resolve) => this.drainWaiters.push(resolve))
  }

  stop(): void {
    clearTimeout(this.timer)
    this.timer = undefined
  }

  private enqueue(payload: string): void {
    this.waiting.push(payload)
    if (this.waiting.length > this.limit) this.waiting.shift()
    this.schedule()
  }

  private schedule(): void {
    if (this.timer !== undefined || this.flushing) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      void this.flush()
    }, this.delay)
    this.timer.unref()
  }

  private async flush(): Promise<void> {
    this.flushing = true
    try {
      while (this.waiting.length > 0) {
        await this.send(this.waiting[0]!)
        this.waiting.shift()
        this.onSent()
      }
      this.delay = FIRST_RETRY_MS
    } catch (error) {
      this.onFailure(error)
      this.delay = Math.min(this.delay * 2, MAX_RETRY_MS)
    } finally {
      this.flushing = false
    }
    if (this.waiting.length > 0) {
      this.schedule()
      return
    }
    const waiters = this.drainWaiters
    this.drainWaiters = []
    for (const resolve of waiters) resolve()
  }
}
