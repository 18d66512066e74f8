import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase, type TestDatabase } from './test-support/test-database.js'

const appDirectory = fileURLToPath(new URL('..', import.meta.url))
let db: TestDatabase
beforeAll(async () => {
  db = await createTestDatabase('readme')
})
afterAll(() => db?.drop())

describe('the README example', () => {
  it('is examples/quickstart.ts word for word', async () => {
    const readme = await readFile(`${appDirectory}/README.md`, 'utf8')
    const example = await readFile(`${appDirectory}/examples/quickstart.ts`, 'utf8')
    expect(readme).toContain(`\`\`\`ts\n${example}\`\`\``)
  })

  it('books the first free slot and publishes its event when run against a database', async () => {
    const { stdout } = await promisify(execFile)('node', ['--import', 'tsx', 'examples/quickstart.ts'], {
      cwd: appDirectory,
      env: { ...process.env, DATABASE_URL: db.url },
      timeout: 60_000,
    })
    expect(stdout.trim().split('\n')).toEqual([
      'free slots: 7',
      'booked 2026-01-12T08:00:00.000Z',
      'published booking.created',
      'free slots now: 6',
    ])
  })
})
