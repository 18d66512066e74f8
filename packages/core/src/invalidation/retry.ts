import { isPermanentRefusal } from '../redis/refusals.js'
import type { Deadline } from './deadline.js'

const ATTEMPTS = 4
const FIRST_DELAY_MS = 25

/**
 * Runs `call` up to 4 times with exponential backoff (25, 50, 100 ms), never starting an attempt after the
 * deadline: invalidations ride out transient Redis errors within the time their caller gave them. A refusal that
 * a retry cannot change (a missing ACL right, a key of another type) fails at once.
 */
export async function withRetries<T>(call: () => Promise<T>, deadline: Deadline): Promise<T> {
  let delay = FIRST_DELAY_MS
  for (let attempt = 1; ; attempt++) {
    try {
      return await call()
    } catch (error) {
      if (attempt >= ATTEMPTS || deadline.left <= delay || isPermanentRefusal(error)) throw error
      await new Promise((resolve) => setTimeout(resolve, delay))
      delay *= 2
    }
  }
}
