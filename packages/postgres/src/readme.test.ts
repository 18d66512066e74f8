import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { type RedisServer, startRedis } from '@cachesaga/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase, type TestDatabase } from './test-support/test-database.js'

const packageDir = fileURLToPath(new URL('..', import.meta.url))
const examplePath = `${packageDir}examples/reservations.ts`
const readme = () => readFileSync(`${packageDir}README.md`, 'utf8')
let db: TestDatabase
// A private server: the example uses fixed cache keys, which a shared REDIS_URL would keep between runs.
let redis: RedisServer

beforeAll(async () => {
  ;[db, redis] = await Promise.all([createTestDatabase('readme'), startRedis({ allowExternal: false })])
})
afterAll(async () => {
  await db?.drop()
  await redis?.stop()
})

describe('the README example', () => {
  it('is examples/reservations.ts, verbatim', () => {
    const block = /<!-- example:start -->\n```ts\n([\s\S]*?)```\n<!-- example:end -->/.exec(readme())?.[1]
    expect(block).toBe(readFileSync(examplePath, 'utf8'))
  })

  it('runs on a fresh database, and prints what the README says it prints', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', examplePath], {
      cwd: packageDir,
      env: { ...process.env, DATABASE_URL: db.url, REDIS_URL: redis.url },
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString()
    })
    const code = await new Promise((resolve) => child.once('exit', resolve))
    expect(code).toBe(0)
    const printed = /It prints:\n\n```\n([\s\S]*?)```/.exec(readme())?.[1]
    expect(output).toBe(printed)
  })
})
