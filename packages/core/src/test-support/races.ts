import { expect } from 'vitest'
import type { Cache, EntryOptions } from '../index.js'
import { gate } from './gates.js'

export interface SlowLoaderRace {
  key?: string
  options?: EntryOptions
  /** How many entries Redis holds for the namespace; checked to be 0 after the race when given. */
  storedEntries?: () => Promise<number>
}

/**
 * Forces the classic stale-set race: the loader has read old data, then `invalidate` runs and
 * resolves, then the loader returns. The late fill must be rejected and nothing may keep the value.
 */
export async function slowLoaderAgainst(
  reader: Cache,
  invalidate: () => Promise<unknown>,
  { key = 'availability:7', options, storedEntries }: SlowLoaderRace = {},
): Promise<void> {
  const loaderStarted = gate()
  const loaderMayReturn = gate()
  const rejected: string[] = []
  const onRejected = (event: { key: string }) => rejected.push(event.key)
  reader.on('fill-rejected-stale', onRejected)
  const read = reader.getOrSet(
    key,
    async () => {
      loaderStarted.open()
      await loaderMayReturn.promise
      return 'slot 09:00 free (old)'
    },
    options,
  )
  await loaderStarted.promise
  await invalidate()
  loaderMayReturn.open()
  // The read began before the invalidation, so it may answer the old value; nothing may keep it.
  expect(await read).toBe('slot 09:00 free (old)')
  reader.off('fill-rejected-stale', onRejected)
  expect(rejected).toEqual([key])
  if (storedEntries !== undefined) expect(await storedEntries()).toBe(0)
  expect(await reader.getOrSet(key, () => 'slot 09:00 taken (new)', options)).toBe('slot 09:00 taken (new)')
}
