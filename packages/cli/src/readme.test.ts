import { execFile } from 'node:child_process'
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { createCache } from '@cachesaga/core'
import { describe, expect, it } from 'vitest'
import { useCli } from './test-support/cli-runs.js'

const run = promisify(execFile)
const packageRoot = fileURLToPath(new URL('..', import.meta.url))
const env = useCli()

/** The first fenced block of `language` after `heading` in the README. */
function block(readme: string, heading: string, language: string): string {
  const match = new RegExp('```' + language + '\\n([\\s\\S]*?)```').exec(
    readme.slice(readme.indexOf(heading)),
  )
  if (!match) throw new Error(`no \`\`\`${language} block after ${heading}`)
  return match[1]!
}

describe('README', () => {
  it('the example session prints what the README says', async () => {
    const readme = readFileSync(join(packageRoot, 'README.md'), 'utf8')
    const session = block(readme, '## Example', 'sh').replace('redis://127.0.0.1:6379', env.url)
    const cache = createCache({ namespace: 'booking', redis: env.url })
    const dir = mkdtempSync(join(tmpdir(), 'cachesaga-readme-'))
    try {
      await cache.set('ghost:session:42', { user: 42 })
      await cache.set('availability:7:2026-11-22', ['09:00'], { tags: ['staff:7'] })
      // `cachesaga` on the PATH, as installing the package puts it there.
      const bin = join(dir, 'cachesaga')
      writeFileSync(
        bin,
        `#!/bin/sh\nexec node ${JSON.stringify(join(packageRoot, 'bin/cachesaga.js'))} "$@"\n`,
      )
      chmodSync(bin, 0o755)
      const { stdout } = await run('sh', ['-c', `exec 2>&1\n${session}`], {
        env: { ...process.env, PATH: `${dir}:${process.env.PATH}` },
      })
      expect(stdout).toBe(block(readme, 'It prints:', 'text'))
      expect(await cache.get('ghost:session:42')).toBeUndefined()
      expect(await cache.get('availability:7:2026-11-22')).toBeUndefined()
    } finally {
      await cache.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
