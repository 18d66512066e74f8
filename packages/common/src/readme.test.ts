import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { type RedisServer, startRedis } from '@cachesaga/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const packageDir = fileURLToPath(new URL('..', import.meta.url))
const examplePath = `${packageDir}examples/connect.ts`
const readme = () => readFileSync(`${packageDir}README.md`, 'utf8')

describe('the README example', () => {
  let server: RedisServer
  beforeAll(async () => {
    server = await startRedis()
  })
  afterAll(async () => {
    await server.stop()
  })

  it('is examples/connect.ts, verbatim', () => {
    const block = /<!-- example:start -->\n```ts\n([\s\S]*?)```\n<!-- example:end -->/.exec(readme())?.[1]
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
    expect(output).toBe(/It prints:\n\n```\n([\s\S]*?)```/.exec(readme())?.[1])
  })
})
