import type { RecordedError } from '../errors.js'
import type { SagaChange } from '../store/saga-change.js'

// What store tests write: a saga to create, a lease, a step's start, a failure.

export const create = { name: 'book', inputJson: JSON.stringify({ slot: 1 }) }
export const lease = (token: string, ms = 10_000) => ({ token, ms })
export const started = (step: string): SagaChange => ({
  kind: 'phase',
  phase: 'step',
  step,
  status: 'started',
  attempt: 1,
})
export const error: RecordedError = {
  code: 'SAGA_ERR_STEP_FAILED',
  name: 'Error',
  message: 'down',
  step: 'hold',
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
