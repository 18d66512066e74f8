import { spawnSync } from 'node:child_process'
import { TestkitError } from './errors.js'

const found = new Set<string>()

/** Checks once per process that `name` runs from PATH, so a missing binary fails with advice, not ENOENT. */
export function requireBinary(name: 'redis-server'): string {
  if (found.has(name)) return name
  const probe = spawnSync(name, ['--version'], { encoding: 'utf8' })
  if (probe.error || probe.status !== 0) {
    throw new TestkitError(
      'TESTKIT_ERR_BINARY_MISSING',
      `${name} was not found on PATH. Install it (Debian: \`apt-get install -y redis-server\`) or point ` +
        'the tests at a server with REDIS_URL=redis://host:port (clusters and fault controls need the binary).',
    )
  }
  found.add(name)
  return name
}
