import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { runCaptured, useCli } from './test-support/cli-runs.js'

const COMMANDS = [
  [],
  ['clear'],
  ['invalidate'],
  ['clear-all'],
  ['dlq'],
  ['dlq', 'list'],
  ['dlq', 'retry'],
  ['dlq', 'purge'],
  ['saga'],
  ['saga', 'list'],
  ['saga', 'inspect'],
  ['saga', 'retry'],
  ['saga', 'skip'],
  ['saga', 'resolve'],
]

describe('help and usage', () => {
  it.each(COMMANDS.map((path) => [path.join(' ') || '(program)', path]))(
    '%s --help prints usage on stdout and exits 0',
    async (_, path) => {
      const run = await runCaptured([...(path as string[]), '--help'])
      expect(run.exitCode).toBe(0)
      expect(run.stdout).toContain(
        `Usage: cachesaga${path.length > 0 ? ` ${(path as string[]).join(' ')}` : ''}`,
      )
      expect(run.stderr).toBe('')
    },
  )

  it('shows the global options in the help of a subcommand', async () => {
    const run = await runCaptured(['dlq', 'purge', '--help'])
    expect(run.stdout).toMatch(/Global Options:[\s\S]*--redis <url>[\s\S]*--json/)
  })

  it('exits 2 with the help on stderr when no command is given', async () => {
    const run = await runCaptured([])
    expect(run.exitCode).toBe(2)
    expect(run.stdout).toBe('')
    expect(run.stderr).toContain('Usage: cachesaga')
  })

  it('exits 2 and names an unknown command or option', async () => {
    expect(await runCaptured(['flush'])).toMatchObject({
      exitCode: 2,
      stderr: "cachesaga: unknown command 'flush' (see --help)\n",
    })
    expect(await runCaptured(['clear', '--patern', 'x'])).toMatchObject({
      exitCode: 2,
      stderr: expect.stringContaining("unknown option '--patern'"),
    })
  })

  it('reports usage errors as JSON on stderr with --json', async () => {
    const run = await runCaptured(['clear', '--json', '--bogus'])
    expect(run.exitCode).toBe(2)
    expect(run.stdout).toBe('')
    expect(JSON.parse(run.stderr)).toEqual({
      error: { code: 'CLI_ERR_USAGE', message: "unknown option '--bogus' (see --help)" },
    })
  })
})

describe('global options', () => {
  it('refuses to run without a Redis and says how to give one', async () => {
    const run = await runCaptured(['clear', '--namespace', 'a', '--pattern', 'x:*'])
    expect(run).toMatchObject({
      exitCode: 2,
      stderr: 'cachesaga: --redis: no Redis given; pass --redis <url> or set REDIS_URL\n',
    })
  })

  it('names REDIS_URL or --redis, whichever carried a malformed URL', async () => {
    const fromEnv = await runCaptured(['saga', 'list'], { env: { REDIS_URL: 'http://x' } })
    expect(fromEnv).toMatchObject({ exitCode: 2, stderr: expect.stringMatching(/^cachesaga: REDIS_URL: /) })
    const fromFlag = await runCaptured(['saga', 'list', '--redis', 'localhost:6379'])
    expect(fromFlag).toMatchObject({ exitCode: 2, stderr: expect.stringMatching(/^cachesaga: --redis: /) })
  })

  it('exits 1 quickly when Redis cannot be reached', async () => {
    const run = await runCaptured(['dlq', 'list', '--redis', 'redis://127.0.0.1:1'])
    expect(run.exitCode).toBe(1)
    expect(run.stderr).toMatch(
      /^cachesaga: Redis at redis:\/\/127\.0\.0\.1:1 was not ready within \d+ ms: connect ECONNREFUSED/,
    )
    const json = await runCaptured(['dlq', 'list', '--redis', 'redis://127.0.0.1:1', '--json'])
    expect(JSON.parse(json.stderr).error.code).toBe('CS_ERR_REDIS_UNREACHABLE')
  })

  it('prints its version with --version and exits 0', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
    expect(await runCaptured(['--version'])).toEqual({ exitCode: 0, stdout: `${version}\n`, stderr: '' })
  })

  it('hides the password of the Redis URL in messages', async () => {
    const run = await runCaptured(['saga', 'list', '--redis', 'redis://:hunter2@127.0.0.1:1'])
    expect(run.stderr).toContain('redis://:***@127.0.0.1:1')
    expect(run.stderr).not.toContain('hunter2')
  })

  describe('on a live Redis', () => {
    const env = useCli()

    it('names --namespace or --tenant when the name is not allowed', async () => {
      const bad = await env.cli(['clear', '--namespace', 'no spaces', '--pattern', 'x:*'])
      expect(bad).toMatchObject({
        exitCode: 2,
        stderr: 'cachesaga: --namespace: letters, digits and _.:- only\n',
      })
      const orphan = await env.cli(['clear', '--tenant', 'acme', '--pattern', 'x:*'])
      expect(orphan).toMatchObject({ exitCode: 2, stderr: 'cachesaga: --tenant: needs --namespace\n' })
      const missing = await env.cli(['invalidate', '--tag', 'x'])
      expect(missing).toMatchObject({
        exitCode: 2,
        stderr: 'cachesaga: --namespace: required by this command\n',
      })
    })

    it('accepts global options before or after the command', async () => {
      const before = await env.cli(['--json', 'saga', 'list'])
      const after = await env.cli(['saga', 'list', '--json'])
      expect(before.exitCode).toBe(0)
      expect(JSON.parse(before.stdout)).toEqual(JSON.parse(after.stdout))
    })
  })
})
