import { execFile } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))

export interface PublishablePackage {
  name: string
  dir: string
  manifest: PackageManifest
}

export interface PackageManifest {
  name: string
  version: string
  private?: boolean
  exports?: Record<string, Record<string, string>>
  bin?: Record<string, string>
  peerDependencies?: Record<string, string>
  peerDependenciesMeta?: Record<string, { optional?: boolean }>
}

/** Every package under packages/ that is not private: what a registry would get. */
export function publishablePackages(): PublishablePackage[] {
  const base = join(ROOT, 'packages')
  return readdirSync(base)
    .map((entry) => join(base, entry))
    .map((dir) => ({
      dir,
      manifest: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageManifest,
    }))
    .filter(({ manifest }) => manifest.private !== true)
    .map(({ dir, manifest }) => ({ name: manifest.name, dir, manifest }))
}

/** `pnpm pack` of one package (workspace ranges become version ranges, as on publish); returns the tarball path. */
export async function pack(pkg: PublishablePackage, destination: string): Promise<string> {
  const { stdout } = await run('pnpm', ['pack', '--pack-destination', destination], { cwd: pkg.dir })
  const tarball = stdout.trim().split('\n').at(-1)!.trim()
  return tarball.startsWith('/') ? tarball : join(destination, tarball)
}
