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

describe('README', () => {
  it('the quickstart runs against a real Redis and prints what the README says', async () => {
    const readme = readFileSync(join(packageDir, 'README.md'), 'utf8')
    const example = block(readme, '## Quickstart', 'ts').replace(
      "from '@cachesaga/core'",
      `from ${JSON.stringify(join(packageDir, 'src/index.ts'))}`,
    )
    const dir = mkdtempSync(join(tmpdir(), 'cachesaga-readme-'))
    try {
      const file = join(dir, 'quickstart.mts')
      writeFileSync(file, example)
      const { stdout } = await run(process.execPath, ['--import', 'tsx', file], {
        cwd: packageDir,
        env: { ...process.env, REDIS_URL: redis.server.url },
      })
      expect(stdout).toBe(block(readme, 'It prints:', 'text'))
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
