/**
 * Remembers the last sequence number seen from each sender. Pub/sub is at-most-once, so a
 * number that is not the next one means a message was lost (or reordered) and L1 may be stale.
 */
export class SequenceTracker {
  private readonly last = new Map<string, number>()

  /** Records `seq` from `from`; false when it is not the successor of the last one seen. */
  accept(from: string, seq: number): boolean {
    const previous = this.last.get(from)
    this.last.set(from, seq)
    return previous === undefined || seq === previous + 1
  }

  /** After a reconnect nothing is known about what was missed; start over. */
  reset(): void {
    this.last.clear()
  }
}
