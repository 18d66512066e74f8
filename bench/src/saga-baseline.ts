import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/**
 * The sources of @cachesaga/saga at a git commit, extracted next to this bench (in `.saga-baseline/`, ignored by
 * git) and imported through tsx like the bench itself: the "before" of a before/after comparison that runs in the
 * same process, on the same Redis, in interleaved rounds. Returns the module's exports.
 */
export async function loadSagaBaseline(ref: string): Promise<Record<string, unknown>> {
  const root = fileURLToPath(new URL('../..', import.meta.url))
  const commit = execFileSync('git', ['rev-parse', '--verify', `${ref}^{commit}`], {
    cwd: root,
    encoding: 'utf8',
  }).trim()
  const dir = fileURLToPath(new URL(`../.saga-baseline/${commit}/`, import.meta.url))
  if (!existsSync(`${dir}src/index.ts`)) {
    mkdirSync(dir, { recursive: true })
    const archive = execFileSync('git', ['archive', commit, 'packages/saga/src'], { cwd: root })
    execFileSync('tar', ['-x', '--strip-components=2', '-C', dir], { input: archive })
  }
  return import(`${dir}src/index.ts`)
}
