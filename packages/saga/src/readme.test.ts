import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { useRedis } from './test-support/redis.js'

// A private server: the example uses fixed cache keys, which a shared REDIS_URL would keep between runs. With an
// append-only file, as a saga store must have: the example's runner checks it (it does not opt out).
const server = useRedis({ allowExternal: false, persistence: 'aof' })
const packageDir = fileURLToPath(new URL('..', import.meta.url))
const examplePath = `${packageDir}examples/book-appointment.ts`

describe('the README example', () => {
  it('is examples/book-appointment.ts, verbatim', () => {
    const readme = readFileSync(`${packageDir}README.md`, 'utf8')
    const block = /<!-- example:start -->\n```ts\n([\s\S]*?)```\n<!-- example:end -->/.exec(readme)?.[1]
    expect(block).toBe(readFileSync(examplePath, 'utf8'))
  })

  it('runs, and prints what the README says it prints', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', examplePath], {
      cwd: packageDir,
      env: { ...process.env, REDIS_URL: server.url },
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString()
    })
    const code = await new Promise((resolve) => child.once('exit', resolve))
    expect(code).toBe(0)
    const readme = readFileSync(`${packageDir}README.md`, 'utf8')
    const printed = /It prints:\n\n```\n([\s\S]*?)```/.exec(readme)?.[1]
    expect(output).toBe(printed)
  })
})
