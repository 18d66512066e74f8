import { setTimeout as sleep } from 'node:timers/promises'

interface WaitOptions {
  timeoutMs: number
  intervalMs?: number
  /** Returns an error when waiting longer is pointless (e.g. the process exited); it is thrown at once. */
  hopeless?: () => Error | undefined
}

/**
 * Polls `check` until it returns true or the deadline passes. A check that throws counts as "not yet";
 * its last error is kept for the timeout message, which says what was awaited.
 */
export async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  { timeoutMs, intervalMs = 20, hopeless }: WaitOptions,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let lastError: unknown
  for (;;) {
    const fatal = hopeless?.()
    if (fatal) throw fatal
    try {
      if (await check()) return
    } catch (error) {
      lastError = error
    }
    if (Date.now() >= deadline) {
      const cause = lastError === undefined ? '' : `: ${String(lastError)}`
      throw new Error(`${what} did not happen within ${timeoutMs} ms${cause}`)
    }
    await sleep(intervalMs)
  }
}
