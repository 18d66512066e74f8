import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const packageRoot = fileURLToPath(new URL('../..', import.meta.url))
export const COUNTING_HANDLERS = 'src/test-support/counting-handlers.ts'

export interface WorkerProcess {
  child: ChildProcess
  /** Resolves once the worker logged that it is ready; rejects if it exits first. */
  ready: Promise<void>
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  stderr(): string
}

/** Spawns `cachesaga-worker` from source as a real child process. */
export function spawnWorker(redisUrl: string, args: string[]): WorkerProcess {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/bin/cachesaga-worker.ts', '--handlers', COUNTING_HANDLERS, ...args],
    { cwd: packageRoot, env: { ...process.env, REDIS_URL: redisUrl }, stdio: ['ignore', 'ignore', 'pipe'] },
  )
  let stderr = ''
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  )
  const ready = new Promise<void>((resolve, reject) => {
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
      if (stderr.includes('"worker ready"')) resolve()
    })
    exited.then(({ code, signal }) =>
      reject(new Error(`worker exited (${code ?? signal}) before ready:\n${stderr}`)),
    )
  })
  ready.catch(() => {})
  return { child, ready, exited, stderr: () => stderr }
}
