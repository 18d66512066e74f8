/**
 * The one deadline of an `invalidate()` call: its groups (keys, dependencies, patterns) run in parallel and
 * every retry of every batch starts before it, so the call takes at most its timeout however many groups and
 * keys it has. `Infinity` is no deadline (an emergency clear walks the whole namespace).
 */
export class Deadline {
  private readonly at: number

  constructor(readonly ms: number) {
    this.at = performance.now() + ms
  }

  /** Milliseconds left, 0 once passed. */
  get left(): number {
    return Math.max(0, this.at - performance.now())
  }

  /** `work`'s value, or undefined if the deadline passes first (the work goes on; its outcome is not awaited). */
  race<T>(work: Promise<T>): Promise<T | undefined> {
    if (this.ms === Number.POSITIVE_INFINITY) return work
    let timer: NodeJS.Timeout | undefined
    const passed = new Promise<undefined>((resolve) => {
      timer = setTimeout(resolve, this.left, undefined)
    })
    return Promise.race([work, passed]).finally(() => clearTimeout(timer))
  }
}
