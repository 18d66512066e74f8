/**
 * Deliberate defects that tests switch on to prove the consistency checker catches real faults.
 * Never reachable through an option: only `test-support/faults.ts` hands a cache's switches out.
 */
export interface Faults {
  /** This instance's own invalidations leave the key in its L1. */
  skipL1Delete: boolean
  /** Invalidations arriving over the bus are ignored (as if pub/sub lost them). */
  dropBusMessages: boolean
  /** A fill re-reads the generations just before writing instead of using those captured before its loader. */
  fillWithoutGenerationCheck: boolean
  /** Tag invalidations skip bumping the tag's generation in Redis. */
  skipTagBump: boolean
}

const switches = new WeakMap<object, Faults>()

/** The (all off) fault switches of a new cache, registered under `owner`. */
export function faultSwitches(owner: object): Faults {
  const faults: Faults = {
    skipL1Delete: false,
    dropBusMessages: false,
    fillWithoutGenerationCheck: false,
    skipTagBump: false,
  }
  switches.set(owner, faults)
  return faults
}

export function faultsOf(owner: object): Faults {
  const faults = switches.get(owner)
  if (faults === undefined) throw new Error('not a cache')
  return faults
}
