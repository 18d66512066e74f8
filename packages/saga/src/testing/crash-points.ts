import { spawn } from 'node:child_process'
import { readSync, writeSync } from 'node:fs'
import { createInterface } from 'node:readline'

// Crash points: a child process stops at each point until its parent answers, so the parent can SIGKILL it exactly
// there. The contract's crash-point suite uses these; a store's own crash tests (a saga of its own, in a child of its
// own) can too.

export type CrashDecision = 'continue' | 'kill'

/**
 * In the child: prints `point <point>` and blocks the whole process (timers included, so a lease is not renewed
 * meanwhile) until the parent writes a line.
 */
export function pauseAtCrashPoint(point: string): void {
  writeSync(1, `point ${point}\n`)
  const byte = Buffer.alloc(1)
  for (;;) {
    try {
      if (readSync(0, byte, 0, 1, null) === 0) process.exit(3)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5)
      continue
    }
    if (byte[0] === 0x0a) return
  }
}

/**
 * In the parent: runs `script` (with `--import tsx`, so it may be TypeScript) with `env` added, and at every point it
 * pauses at asks `decide` whether to let it go on or SIGKILL it there. Returns the points the child reached and its
 * last line. A child that exits with an error without being killed is an error.
 */
export async function runCrashPointChild(
  script: string,
  env: Record<string, string>,
  decide: (point: string, index: number) => CrashDecision | Promise<CrashDecision> = () => 'continue',
): Promise<{ points: string[]; last: string | undefined }> {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const points: string[] = []
  let last: string | undefined
  let killed = false
  for await (const line of createInterface({ input: child.stdout })) {
    last = line
    if (!line.startsWith('point ')) continue
    points.push(line.slice('point '.length))
    if ((await decide(points.at(-1)!, points.length - 1)) === 'kill') {
      child.kill('SIGKILL')
      killed = true
      break
    }
    child.stdin.write('\n')
  }
  const code = await exited
  if (!killed && code !== 0) throw new Error(`the crash-point child exited with ${code}`)
  return { points, last }
}

/** Runs `tasks` with at most `limit` at a time (each spawns a node process). */
export async function inBatches<T>(tasks: Array<() => Promise<T>>, limit: number): Promise<T[]> {
  const results: T[] = []
  let next = 0
  const worker = async () => {
    while (next < tasks.length) {
      const index = next++
      results[index] = await tasks[index]!()
    }
  }
  await Promise.all(Array.from({ length: limit }, worker))
  return results
}
