import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/**
 * The sources of a workspace package (`packages/<name>/src`) at a git commit, extracted next to this bench (in
 * `.<name>-baseline/`, ignored by git) and imported through tsx like the bench itself: the "before" of a before/after
 * comparison that runs in the same process, on the same servers, in interleaved rounds. Returns the module's exports.
 */
export async function loadPackageBaseline(
  name: 'saga' | 'core',
  ref: string,
): Promise<Record<string, unknown>> {
  const root = fileURLToPath(new URL('../..', import.meta.url))
  const commit = execFileSync('git', ['rev-parse', '--verify', `${ref}^{commit}`], {
    cwd: root,
    encoding: 'utf8',
  }).trim()
  const dir = fileURLToPath(new URL(`../.${name}-baseline/${commit}/`, import.meta.url))
  // With its package.json: a package that traces reads its name and version from it.
  if (!existsSync(`${dir}src/index.ts`) || !existsSync(`${dir}package.json`)) {
    mkdirSync(dir, { recursive: true })
    const paths = [`packages/${name}/src`, `packages/${name}/package.json`]
    const archive = execFileSync('git', ['archive', commit, ...paths], { cwd: root })
    execFileSync('tar', ['-x', '--strip-components=2', '-C', dir], { input: archive })
  }
  return import(`${dir}src/index.ts`)
}

/** @cachesaga/saga at `ref` (see `loadPackageBaseline`). */
export const loadSagaBaseline = (ref: string) => loadPackageBaseline('saga', ref)
