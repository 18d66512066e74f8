/**
 * Runs `pass` for whoever asks, one pass at a time. A request during a pass joins it and makes it pass
 * once more afterwards, so a burst of wake-ups costs one extra read and none is lost.
 */
export class CoalescedRuns {
  private running: Promise<number> | undefined
  private again = false

  constructor(
    /** Handles what is pending; resolves with how many items it handled. */
    private readonly pass: () => Promise<number>,
    /** Receives what a pass throws; the run ends there and the next request starts a new one. */
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Resolves with how many items the run handled (never rejects: errors go to `onError`). */
  run(): Promise<number> {
    if (this.running !== undefined) {
      this.again = true
      return this.running
    }
    this.running = this.passUntilQuiet().finally(() => {
      this.running = undefined
    })
    return this.running
  }

  /** Resolves once the run in progress, if any, has ended. */
  async idle(): Promise<void> {
    await this.running
  }

  private async passUntilQuiet(): Promise<number> {
    let total = 0
    try {
      do {
        this.again = false
        total += await this.pass()
      } while (this.again)
    } catch (error) {
      this.onError(error)
    }
    return total
  }
}
