import { type ChildProcess, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

/** The app directory; the same relative path from `src/demo` and `dist/demo`. */
export const APP_DIRECTORY = fileURLToPath(new URL('../../', import.meta.url))

/** Run from `src` (tsx) or from the built `dist`: children are started the same way. */
const FROM_SOURCE = import.meta.url.endsWith('.ts')

/** A module of this app as a child process can run it: `src/x.ts` under tsx, or `dist/x.js`. */
export function appModule(path: string): { file: string; nodeArgs: string[] } {
  return FROM_SOURCE
    ? { file: `${APP_DIRECTORY}src/${path}.ts`, nodeArgs: ['--import', 'tsx'] }
    : { file: `${APP_DIRECTORY}dist/${path}.js`, nodeArgs: [] }
}

/** A child process of the stack, with a name for its log lines. */
export interface StackProcess {
  readonly name: string
  readonly child: ChildProcess
  /** Resolves with the exit code (or the signal's name) when it ends. */
  readonly exited: Promise<number | string>
}

interface SpawnOptions {
  name: string
  script: string
  args?: string[]
  nodeArgs?: string[]
  env: NodeJS.ProcessEnv
  /** Receives every output line, prefixed by the process name. */
  log: (line: string) => void
}

/** Starts `node <script>` and resolves once a line of its output satisfies `ready`. */
export async function spawnNode(
  options: SpawnOptions,
  ready: (line: string) => boolean,
  timeoutMs = 60_000,
): Promise<StackProcess & { readyLine: string }> {
  const child = spawn(
    process.execPath,
    [...(options.nodeArgs ?? []), options.script, ...(options.args ?? [])],
    {
      cwd: APP_DIRECTORY,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'))
  })
  const readyLine = await new Promise<string>((resolve, reject) => {
    child.once('error', reject)
    const timer = setTimeout(
      () => reject(new Error(`${options.name} not ready within ${timeoutMs} ms`)),
      timeoutMs,
    )
    const onLine = (line: string) => {
      options.log(`[${options.name}] ${line}`)
      if (ready(line)) {
        clearTimeout(timer)
        resolve(line)
      }
    }
    createInterface({ input: child.stdout! }).on('line', onLine)
    createInterface({ input: child.stderr! }).on('line', onLine)
    void exited.then((code) => {
      clearTimeout(timer)
      reject(new Error(`${options.name} exited (${code}) before it was ready`))
    })
  }).catch((error: unknown) => {
    child.kill('SIGKILL')
    throw error
  })
  return { name: options.name, child, exited, readyLine }
}

/** SIGTERM, then SIGKILL if it has not exited within `graceMs`. Resolves with how it ended. */
export async function stopProcess(process: StackProcess, graceMs = 10_000): Promise<number | string> {
  if (process.child.exitCode !== null || process.child.signalCode !== null) return process.exited
  process.child.kill('SIGTERM')
  const timer = setTimeout(() => process.child.kill('SIGKILL'), graceMs)
  try {
    return await process.exited
  } finally {
    clearTimeout(timer)
  }
}
