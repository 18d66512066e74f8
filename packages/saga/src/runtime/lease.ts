import type { SagaStore } from '../store/saga-store.js'

/**
 * Keeps a saga's lease alive while this runner drives it, renewing at a third of its length so that two missed
 * renewals still leave time. Losing the lease needs no flag here: the next fenced write fails with
 * SAGA_ERR_LEASE_LOST.
 */
export function keepLease(
  store: SagaStore,
  sagaId: string,
  lease: { token: string; ms: number },
): { stop(): void } {
  const timer = setInterval(
    () => {
      // A failed renewal is tried again at the next tick; if the store stays away the lease expires and another
      // runner takes over, which is what crash recovery is for.
      store.renewLease(sagaId, lease).catch(() => {})
    },
    Math.max(10, Math.floor(lease.ms / 3)),
  )
  timer.unref()
  return { stop: () => clearInterval(timer) }
}
