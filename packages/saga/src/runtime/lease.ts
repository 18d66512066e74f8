import type { Lease, SagaStore } from '../store/saga-store.js'

/**
 * Keeps alive the leases of every saga a runner drives, with one timer for all of them: every third of the lease it
 * renews the leases held at that moment, so a lease is renewed within a third of its length after it was taken and
 * two missed renewals still leave time. A timer per saga cost more than most sagas take. Losing a lease needs no flag
 * here: the next fenced write fails with SAGA_ERR_LEASE_LOST.
 */
export class LeaseKeeper {
  private readonly held = new Map<string, Lease>()
  private timer: NodeJS.Timeout | undefined

  constructor(
    private readonly store: SagaStore,
    private readonly leaseMs: number,
  ) {}

  /** Renews `lease` on `sagaId` until the returned function is called. */
  hold(sagaId: string, lease: Lease): () => void {
    this.held.set(sagaId, lease)
    if (!this.timer) {
      this.timer = setInterval(() => this.renewAll(), Math.max(10, Math.floor(this.leaseMs / 3)))
      this.timer.unref()
    }
    return () => {
      if (this.held.get(sagaId) === lease) this.held.delete(sagaId)
    }
  }

  /** Stops renewing (the runner is closed and drives nothing any more). */
  stop(): void {
    clearInterval(this.timer)
    this.timer = undefined
  }

  private renewAll(): void {
    for (const [sagaId, lease] of this.held) {
      // A failed renewal is tried again at the next tick; if the store stays away the lease expires and another
      // runner takes over, which is what crash recovery is for.
      this.store.renewLease(sagaId, lease).catch(() => {})
    }
  }
}
