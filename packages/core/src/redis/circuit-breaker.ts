/**
 * Skips Redis for a while after repeated failures, so a dead or blackholed Redis costs callers
 * nothing but L1 and the loader. After `openForMs` one probe is let through; success closes it.
 */
export class CircuitBreaker {
  private failures = 0
  private openUntil = 0
  private open = false

  constructor(
    private readonly threshold: number,
    private readonly openForMs: number,
    private readonly onChange: (open: boolean) => void,
  ) {}

  /** True when a call may go to Redis: closed, or open long enough that a probe is due. */
  allows(): boolean {
    if (!this.open) return true
    if (Date.now() < this.openUntil) return false
    // Half-open: let one probe through and keep the others out until it reports.
    this.openUntil = Date.now() + this.openForMs
    return true
  }

  get isOpen(): boolean {
    return this.open
  }

  success(): void {
    this.failures = 0
    if (this.open) {
      this.open = false
      this.onChange(false)
    }
  }

  failure(): void {
    this.failures++
    if (!this.open && this.failures >= this.threshold) {
      this.open = true
      this.openUntil = Date.now() + this.openForMs
      this.onChange(true)
    }
  }
}
