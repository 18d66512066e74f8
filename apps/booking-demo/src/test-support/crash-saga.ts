import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

const CHILD = fileURLToPath(new URL('./saga-child.ts', import.meta.url))

/**
 * Runs a saga in a child process and SIGKILLs it as soon as `step` has started: the step's side effect may or
 * may not have happened, and the saga's record says the step is running under a lease that no one renews.
 */
export async function crashSagaAt(
  step: string,
  saga: { name: 'cancel' | 'reschedule'; sagaId: string; input: unknown },
  env: { DATABASE_URL: string; REDIS_URL: string; CALDAV_URL: string },
): Promise<string[]> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    env: { ...process.env, ...env, SAGA: saga.name, SAGA_ID: saga.sagaId, INPUT: JSON.stringify(saga.input) },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const seen: string[] = []
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the child never started ${step}: ${seen.join(', ')}`)),
      30_000,
    )
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const event = JSON.parse(line) as { name: string; step?: string }
      seen.push(`${event.name}${event.step ? ` ${event.step}` : ''}`)
      if (event.name === 'step.started' && event.step === step) {
        clearTimeout(timer)
        child.kill('SIGKILL')
        resolve()
      }
    })
    void exited.then(() => {
      clearTimeout(timer)
      reject(new Error(`the child ended before ${step} started: ${seen.join(', ')}`))
    })
  })
  await exited
  return seen
}
