import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { type RedisServer, startRedis } from '@cachesaga/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase, type TestDatabase } from './test-support/test-database.js'

const packageDir = fileURLToPath(new URL('..', import.meta.url))
const readme = () => readFileSync(`${packageDir}README.md`, 'utf8')
let redis: RedisServer
const databases: TestDatabase[] = []

beforeAll(async () => {
  // A private server: the first example uses fixed cache keys, which a shared REDIS_URL would keep between runs.
  redis = await startRedis({ allowExternal: false })
})
afterAll(async () => {
  await Promise.all(databases.map((db) => db.drop()))
  await redis?.stop()
})

/**
 * Each example is a file in examples/, in the README verbatim between `<!-- example:<name>:start -->` and
 * `<!-- example:<name>:end -->`, followed by what it prints. The saga example runs on the durable server: a saga
 * runner refuses a PostgreSQL that can lose sagas.
 */
describe.each([
  { name: 'reservations', durable: false },
  { name: 'booking-saga', durable: true },
])('the README example $name', ({ name, durable }) => {
  const examplePath = `${packageDir}examples/${name}.ts`
  const section = () => {
    const found = new RegExp(
      `<!-- example:${name}:start -->\\n\`\`\`ts\\n([\\s\\S]*?)\`\`\`\\n<!-- example:${name}:end -->[\\s\\S]*?It prints:\\n\\n\`\`\`\\n([\\s\\S]*?)\`\`\``,
    ).exec(readme())
    return { code: found?.[1], printed: found?.[2] }
  }

  it(`is examples/${name}.ts, verbatim`, () => {
    expect(section().code).toBe(readFileSync(examplePath, 'utf8'))
  })

  it('runs on a fresh database, and prints what the README says it prints', async () => {
    const db = await createTestDatabase(`readme_${name.replace('-', '_')}`, { durable })
    databases.push(db)
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
    expect(output).toBe(section().printed)
  })
})
