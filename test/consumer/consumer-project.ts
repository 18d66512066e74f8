import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

/**
 * The lowest version of each peer dependency the packages declare: the consumer installs these, so the
 * floor of every declared range is what this test runs (the workspace itself runs the newest).
 */
export const PEER_FLOORS: Record<string, string> = {
  ioredis: '5.9.2',
  zod: '4.1.0',
  bullmq: '6.7.0',
  pg: '8.16.0',
}

/** What a user's project adds to run TypeScript examples and to typecheck an app. */
const TOOLS: Record<string, string> = {
  tsx: '^4.20.0',
  typescript: '~5.9.3',
  '@types/node': '^20.19.0',
  '@types/pg': '^8.15.0',
}

export interface ConsumerProject {
  dir: string
  /** Runs a program in the project (cwd = project) and resolves with its output; rejects on a non-zero exit. */
  exec(
    file: string,
    args: string[],
    env?: Record<string, string>,
  ): Promise<{ stdout: string; stderr: string }>
}

/**
 * A project outside the workspace (in the OS temp dir, so no parent node_modules can help) that installs the
 * tarballs with npm, as a user would: `npm install <tarballs> <peers>`.
 */
export async function createConsumerProject(tarballs: readonly string[]): Promise<ConsumerProject> {
  const dir = mkdtempSync(join(tmpdir(), 'cachesaga-consumer-'))
  mkdirSync(join(dir, 'src'))
  writeFileSync(
    join(dir, 'package.json'),
    `${JSON.stringify({ name: 'consumer', private: true, type: 'module' }, null, 2)}\n`,
  )
  const specs = [
    ...tarballs,
    ...Object.entries(PEER_FLOORS).map(([name, version]) => `${name}@${version}`),
    ...Object.entries(TOOLS).map(([name, range]) => `${name}@${range}`),
  ]
  await run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...specs], {
    cwd: dir,
    timeout: 300_000,
    maxBuffer: 16 * 1024 * 1024,
  })
  return {
    dir,
    exec: (file, args, env = {}) =>
      run(file, args, {
        cwd: dir,
        env: { ...process.env, ...env },
        timeout: 120_000,
        maxBuffer: 16 * 1024 * 1024,
      }),
  }
}
