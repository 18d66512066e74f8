import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { useTestRedis } from './test-support/test-redis.js'

const run = promisify(execFile)
const redis = useTestRedis()
const packageDir = fileURLToPath(new URL('..', import.meta.url))

/** The first fenced block of `language` after `heading` in the README. */
function block(readme: string, heading: string, language: string): string {
  const section = readme.slice(readme.indexOf(heading))
  const match = new RegExp('```' + language + '\\n([\\s\\S]*?)```').exec(section)
  if (!match) throw new Error(`no \`\`\`${language} block after ${heading}`)
  return match[1]!
}

/** Runs the first ```ts block after `heading` against the test Redis and returns what it printed. */
async function runExample(readme: string, heading: string): Promise<string> {
  const example = block(readme, heading, 'ts').replace(
    "from '@cachesaga/core'",
    `from ${JSON.stringify(join(packageDir, 'src/index.ts'))}`,
  )
  const dir = mkdtempSync(join(tmpdir(), 'cachesaga-readme-'))
  try {
    const file = join(dir, 'example.mts')
    writeFileSync(file, example)
    const { stdout } = await run(process.execPath, ['--import', 'tsx', file], {
      cwd: packageDir,
      env: { ...process.env, REDIS_URL: redis.server.url },
    })
    return stdout
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

describe('README', () => {
  const readme = readFileSync(join(packageDir, 'README.md'), 'utf8')

  it('the quickstart runs against a real Redis and prints what the README says', async () => {
    expect(await runExample(readme, '## Quickstart')).toBe(block(readme, 'It prints:', 'text'))
  })

  it('the operating example (warming, checker with heal, refresh, health) prints what the README says', async () => {
    const section = readme.slice(readme.indexOf('## Operating it'))
    expect(await runExample(readme, '## Operating it')).toBe(block(section, 'It prints:', 'text'))
  })
})
