interface Flight {
  readonly epoch: number
  readonly promise: Promise<unknown>
}

/**
 * Concurrent misses of one key share one load. A flight is only joined by callers that saw the
 * same local invalidation epoch: one that started after an invalidation must not receive a value
 * its loader may have read before it.
 */
export class Singleflight {
  private readonly flights = new Map<string, Flight>()

  run<T>(key: string, epoch: number, start: () => Promise<T>): Promise<T> {
    const existing = this.flights.get(key)
    if (existing !== undefined && existing.epoch === epoch) return existing.promise as Promise<T>
    const promise = start()
    const flight: Flight = { epoch, promise }
    this.flights.set(key, flight)
    const done = () => {
      if (this.flights.get(key) === flight) this.flights.delete(key)
    }
    promise.then(done, done)
    return promise
  }
}
