import { fileURLToPath } from 'node:url'
import { type CrashDecision, runCrashPointChild } from '@cachesaga/saga/testing'

const CHILD = fileURLToPath(new URL('./saga-child.ts', import.meta.url))

export interface ChildSaga {
  name: 'book' | 'cancel' | 'reschedule'
  sagaId: string
  input: unknown
}

export interface ChildEnv {
  DATABASE_URL: string
  REDIS_URL: string
  CALDAV_URL: string
}

/**
 * Runs a saga in a child process (`saga-child.ts`) that stops at every crash point, and asks `decide` at each
 * whether to let it go on or SIGKILL it there; `decide` may look at the database meanwhile, the child frozen.
 * Returns the points reached.
 */
export async function runSagaChild(
  saga: ChildSaga,
  env: ChildEnv,
  decide: (point: string) => CrashDecision | Promise<CrashDecision>,
): Promise<string[]> {
  const { points } = await runCrashPointChild(
    CHILD,
    { ...env, SAGA: saga.name, SAGA_ID: saga.sagaId, INPUT: JSON.stringify(saga.input) },
    decide,
  )
  return points
}

/**
 * SIGKILLs the child as soon as `step` has started: the saga's record says the step is running under a lease that
 * no one renews, and its side effect has not happened.
 */
export async function crashSagaAt(step: string, saga: ChildSaga, env: ChildEnv): Promise<string[]> {
  const point = `step.started ${step}`
  const points = await runSagaChild(saga, env, (reached) => (reached === point ? 'kill' : 'continue'))
  if (points.at(-1) !== point) throw new Error(`the child never started ${step}: ${points.join(', ')}`)
  return points
}
