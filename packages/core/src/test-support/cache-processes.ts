import { type ChildProcess, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import type { CacheOptions } from '../index.js'

/** A cache running in a child process (`node --import tsx`), called like a remote object. */
export interface CacheProcess {
  call<T = unknown>(request: Record<string, unknown>): Promise<T>
  stop(): Promise<void>
}

const script = fileURLToPath(new URL('./cache-process.ts', import.meta.url))

export async function spawnCacheProcess(options: CacheOptions): Promise<CacheProcess> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', script], {
    env: { ...process.env, CACHESAGA_OPTIONS: JSON.stringify(options) },
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>()
  let nextId = 1
  const ready = new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`cache process exited early with code ${code}`)))
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const message = JSON.parse(line) as { ready?: boolean; id?: number; result?: unknown; error?: string }
      if (message.ready) return resolve()
      const waiter = pending.get(message.id!)
      pending.delete(message.id!)
      if (message.error !== undefined) waiter?.reject(new Error(message.error))
      else waiter?.resolve(message.result)
    })
  })
  await ready
  return {
    call<T>(request: Record<string, unknown>): Promise<T> {
      const id = nextId++
      return new Promise<T>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (value: unknown) => void, reject })
        child.stdin!.write(`${JSON.stringify({ id, ...request })}\n`)
      })
    },
    async stop(): Promise<void> {
      if (child.exitCode !== null) return
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
      child.stdin!.end()
      await exited
    },
  }
}
