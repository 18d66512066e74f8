export type LoaderOutcome<T> =
  | { kind: 'value'; value: T }
  | { kind: 'error'; error: unknown }
  | { kind: 'soft-timeout' }
  | { kind: 'hard-timeout' }

/**
 * Waits for a loader, up to a soft timeout (only meaningful when a grace value can be served
 * instead) and a hard timeout. The loader itself keeps running; its late result still fills.
 */
export function awaitLoader<T>(
  loading: Promise<T>,
  softMs: number | undefined,
  hardMs: number | undefined,
): Promise<LoaderOutcome<T>> {
  if (softMs === undefined && hardMs === undefined) {
    return loading.then(
      (value) => ({ kind: 'value', value }),
      (error: unknown) => ({ kind: 'error', error }),
    )
  }
  return new Promise((resolve) => {
    const timers: NodeJS.Timeout[] = []
    const settle = (outcome: LoaderOutcome<T>) => {
      for (const timer of timers) clearTimeout(timer)
      resolve(outcome)
    }
    if (softMs !== undefined) timers.push(setTimeout(() => settle({ kind: 'soft-timeout' }), softMs))
    if (hardMs !== undefined) timers.push(setTimeout(() => settle({ kind: 'hard-timeout' }), hardMs))
    loading.then(
      (value) => settle({ kind: 'value', value }),
      (error: unknown) => settle({ kind: 'error', error }),
    )
  })
}
