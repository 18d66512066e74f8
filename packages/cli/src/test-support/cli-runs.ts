import { randomUUID } from 'node:crypto'
import type { Cache } from '@cachesaga/core'
import { type RedisServer, startRedis } from '@cachesaga/testkit'
import { afterAll, beforeAll } from 'vitest'
import type { ExitCode } from '../exit-codes.js'
import { runCli } from '../program.js'

/** What one `cachesaga` run printed and how it exited. */
export interface CliRun {
  exitCode: ExitCode
  stdout: string
  stderr: string
}

export interface RunOptions {
  /** Makes the run interactive: called with each question, returns what the person types. */
  answer?: (question: string) => string
  /** Pretends stderr is a terminal (the progress indicator draws only then). */
  stderrIsTTY?: boolean
  env?: Record<string, string | undefined>
}

/** Runs the CLI in-process through `runCli`, the function the bin calls, capturing everything it prints. */
export async function runCaptured(argv: string[], options: RunOptions = {}): Promise<CliRun> {
  let stdout = ''
  let stderr = ''
  const { answer } = options
  const exitCode = await runCli(argv, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text), isTTY: options.stderrIsTTY === true },
    env: options.env ?? {},
    ...(answer && {
      prompt: async (question: string) => {
        stderr += question
        return answer(question)
      },
    }),
  })
  return { exitCode, stdout, stderr }
}

/**
 * A private Redis server for the enclosing suite, and `cli(...)` bound to it through REDIS_URL.
 * Each test should use its own `namespace()` so tests never see each other's entries.
 */
export function useCli() {
  const handle = {} as { server: RedisServer }
  beforeAll(async () => {
    // An append-only file too: saga runners refuse a Redis that can lose sagas silently.
    handle.server = await startRedis({
      args: ['--maxmemory-policy', 'noeviction', '--appendonly', 'yes'],
      allowExternal: false,
    })
  })
  afterAll(async () => {
    await handle.server.stop()
  })
  return {
    get url(): string {
      return handle.server.url
    },
    cli(argv: string[], options: RunOptions = {}): Promise<CliRun> {
      return runCaptured(argv, { ...options, env: { REDIS_URL: handle.server.url, ...options.env } })
    },
  }
}

export const namespace = (): string => `ns${randomUUID().slice(0, 8)}`

/**
 * Resolves on the next invalidation `cache` hears over the bus from another instance (the CLI): the
 * drop of its L1 copies is asynchronous, so a test waits for it before reading them.
 */
export function nextBusMessage(cache: Cache): Promise<void> {
  return new Promise((resolve) => {
    const listener = () => {
      cache.off('bus:message', listener)
      resolve()
    }
    cache.on('bus:message', listener)
  })
}
