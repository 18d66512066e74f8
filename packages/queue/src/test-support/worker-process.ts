import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export const PACKAGE_ROOT = fileURLToPath(new URL('../..', import.meta.url))
export const COUNTING_HANDLERS = 'src/test-support/counting-handlers.ts'
/** The built binary, as users run it: plain node, no TypeScript loader. */
export const BUILT_BIN = `${PACKAGE_ROOT}bin/cachesaga-worker.js`

export interface WorkerProcess {
  child: ChildProcess
  /** Resolves once the worker logged that it is ready; rejects if it exits first. */
  ready: Promise<void>
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  stdout(): string
  stderr(): string
}

interface SpawnOptions {
  /** Run `bin/cachesaga-worker.js` (needs `pnpm build`) instead of the source through tsx. */
  built?: boolean
  cwd?: string
  env?: Record<string, string>
}

/**
 * Spawns `cachesaga-worker` as a real child process against `redisUrl`, with the counting handlers unless `args` name
 * other ones.
 */
export function spawnWorker(redisUrl: string, args: string[], options: SpawnOptions = {}): WorkerProcess {
  const command = options.built
    ? [BUILT_BIN]
    : ['--import', 'tsx', 'src/bin/cachesaga-worker.ts', '--handlers', COUNTING_HANDLERS]
  const child = spawn(process.execPath, [...command, ...args], {
    cwd: options.cwd ?? PACKAGE_ROOT,
    env: { ...process.env, REDIS_URL: redisUrl, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  )
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString()
  })
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
  return { child, ready, exited, stdout: () => stdout, stderr: () => stderr }
}
