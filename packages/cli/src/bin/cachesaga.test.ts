import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { createCache } from '@cachesaga/core'
import { describe, expect, it } from 'vitest'
import { namespace, useCli } from '../test-support/cli-runs.js'

const packageRoot = fileURLToPath(new URL('../..', import.meta.url))
const env = useCli()

interface Exit {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs `command` in a shell in the package root; `onOutput` sees stdout so far and may write to stdin. */
function shell(
  command: string,
  onOutput?: (stdout: string, stdin: NodeJS.WritableStream) => void,
): Promise<Exit> {
  const child = spawn('sh', ['-c', command], {
    cwd: packageRoot,
    env: { ...process.env, REDIS_URL: env.url },
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString()
    onOutput?.(stdout, child.stdin)
  })
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })))
}

describe('the cachesaga executable (the committed bin shim over the built dist)', () => {
  it('prints help and exits 0', async () => {
    const run = await shell('node bin/cachesaga.js --help')
    expect(run.code).toBe(0)
    expect(run.stdout).toContain('Usage: cachesaga [options] [command]')
  })

  it('sets the exit code of the process: 2 for a refusal, 0 for a dry run, JSON on stdout', async () => {
    const ns = namespace()
    const refused = await shell(`node bin/cachesaga.js clear --namespace ${ns} --pattern '*' < /dev/null`)
    expect(refused).toEqual({
      code: 2,
      stdout: '',
      stderr: `cachesaga: --pattern '*' matches every key of namespace ${ns}; pass --all if that is meant\n`,
    })
    const dryRun = await shell(
      `node bin/cachesaga.js --json clear --namespace ${ns} --pattern 'x:*' --dry-run`,
    )
    expect(dryRun.code).toBe(0)
    expect(JSON.parse(dryRun.stdout)).toMatchObject({
      namespace: ns,
      dryRun: true,
      patterns: [{ pattern: 'x:*', matched: 0 }],
    })
  })

  it('refuses clear-all with exit 2 when stdin is not a terminal', async () => {
    const run = await shell(`node bin/cachesaga.js clear-all --namespace ${namespace()} < /dev/null`)
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('there is no terminal to ask on')
  })

  it('asks on a real terminal for the token and clears once it is typed back', async () => {
    const ns = namespace()
    const cache = createCache({ namespace: ns, redis: env.url })
    try {
      await cache.set('ghost:session:1', 'x')
      let answered = false
      // `script` gives the CLI a pseudo-terminal, as an operator's shell would.
      const run = await shell(
        `script -qfec "node bin/cachesaga.js clear-all --namespace ${ns}" /dev/null`,
        (out, stdin) => {
          const token = /Type ([0-9a-f]{32}) to confirm/.exec(out)?.[1]
          if (token && !answered) {
            answered = true
            stdin.write(`${token}\n`)
          }
        },
      )
      expect(run.code).toBe(0)
      expect(run.stdout).toContain(`This deletes every entry of namespace ${ns} on every instance.`)
      expect(run.stdout).toContain(`cleared namespace ${ns}: removed 1 entry`)
      expect(await cache.get('ghost:session:1')).toBeUndefined()
    } finally {
      await cache.close()
    }
  })
})
