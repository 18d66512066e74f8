import { SagaError } from '../errors.js'

/**
 * The abort signal of one attempt, made only when the step reads it (most never do: an AbortController per attempt
 * is a measurable share of a saga's CPU). Once the attempt timed out, the signal is aborted whenever it is made.
 */
export class AttemptAbort {
  private controller: AbortController | undefined
  private reason: unknown

  get signal(): AbortSignal {
    this.controller ??= new AbortController()
    if (this.reason !== undefined && !this.controller.signal.aborted) this.controller.abort(this.reason)
    return this.controller.signal
  }

  abort(reason: unknown): void {
    this.reason = reason
    this.controller?.abort(reason)
  }
}

const stepTimeout = (timeoutMs: number) =>
  new SagaError('SAGA_ERR_STEP_TIMEOUT', `no answer within ${timeoutMs} ms`, { details: { timeoutMs } })

/** Runs `work`, failing with SAGA_ERR_STEP_TIMEOUT (and aborting its signal) when it outlasts `timeoutMs`. */
export function runWithTimeout<T>(timeoutMs: number, work: (abort: AttemptAbort) => Promise<T>): Promise<T> {
  const abort = new AttemptAbort()
  // One promise and one timer per attempt: this runs for every step of every saga.
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      const error = stepTimeout(timeoutMs)
      abort.abort(error)
      reject(error)
    }, timeoutMs)
    let running: Promise<T>
    try {
      running = work(abort)
    } catch (error) {
      running = Promise.reject(error)
    }
    running.then(
      (value) => {
        clearTimeout(timer)
        resolve(value)
      },
      (error: unknown) => {
        clearTimeout(timer)
        reject(error)
      },
    )
  })
}

/**
 * Runs `work`, aborting its signal with SAGA_ERR_STEP_TIMEOUT when it outlasts `timeoutMs`, and waits for it to
 * settle: for work that must report its own outcome, such as a store transaction that may already be committing.
 */
export async function runToOutcome<T>(
  timeoutMs: number,
  work: (abort: AttemptAbort) => Promise<T>,
): Promise<T> {
  const abort = new AttemptAbort()
  const timer = setTimeout(() => abort.abort(stepTimeout(timeoutMs)), timeoutMs)
  try {
    return await work(abort)
  } finally {
    clearTimeout(timer)
  }
}
