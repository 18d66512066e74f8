import type { Cache } from '../cache.js'
import { type Faults, faultsOf } from '../faults.js'

/** Switches a deliberate defect on for one cache (tests only). */
export function injectFault(cache: Cache, fault: keyof Faults): void {
  faultsOf(cache)[fault] = true
}
