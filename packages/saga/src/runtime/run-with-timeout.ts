import { SagaError } from '../errors.js'

/** Runs `work`, failing with SAGA_ERR_STEP_TIMEOUT (and aborting its signal) when it outlasts `timeoutMs`. */
export async function runWithTimeout<T>(
  timeoutMs: number,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController()
  let timer: NodeJS.Timeout | undefined
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new SagaError('SAGA_ERR_STEP_TIMEOUT', `no answer within ${timeoutMs} ms`)
      controller.abort(error)
      reject(error)
    }, timeoutMs)
  })
  try {
    return await Promise.race([work(controller.signal), timedOut])
  } finally {
    clearTimeout(timer)
  }
}
