import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT } from './workspace-packages.js'

/**
 * What an example needs from the harness: a Redis (with an append-only file when it runs sagas), PostgreSQL (with its
 * durable settings when it keeps sagas: the runner refuses one that can lose them).
 */
export type Need = 'redis' | 'durable-redis' | 'postgres' | 'durable-postgres'

/** One README example, run from the consumer project exactly as the README shows it. */
export interface ReadmeExample {
  /** The package whose README shows it. */
  packageName: string
  label: string
  /** `ts`: a program run with tsx; `sh`: a shell session run with the project's `node_modules/.bin` on PATH. */
  language: 'ts' | 'sh'
  source: string
  needs: Need[]
  /** What the README says it prints, when it says. */
  prints?: string
}

const readme = (dir: string) => readFileSync(join(ROOT, 'packages', dir, 'README.md'), 'utf8')
const file = (dir: string, path: string) => readFileSync(join(ROOT, 'packages', dir, path), 'utf8')

/** The first fenced block of `language` after `heading`. */
function block(markdown: string, heading: string, language: string): string {
  const at = markdown.indexOf(heading)
  if (at === -1) throw new Error(`no "${heading}" in the README`)
  const match = new RegExp(`\`\`\`${language}\\n([\\s\\S]*?)\`\`\``).exec(markdown.slice(at))
  if (match === null) throw new Error(`no \`\`\`${language} block after "${heading}"`)
  return match[1]!
}

/** The block a README shows after `marker`, under "It prints:". */
function printedAfter(markdown: string, marker: string): string {
  return block(markdown.slice(markdown.indexOf(marker)), 'It prints:', '')
}

/** Each publishable package's README examples, as its own `readme.test.ts` finds them (and checks them verbatim). */
export function readmeExamples(): ReadmeExample[] {
  const core = readme('core')
  const operating = core.slice(core.indexOf('## Operating it'))
  const cli = readme('cli')
  return [
    {
      packageName: '@cachesaga/common',
      label: 'examples/connect.ts',
      language: 'ts',
      source: file('common', 'examples/connect.ts'),
      needs: ['redis'],
      prints: block(readme('common'), 'It prints:', ''),
    },
    {
      packageName: '@cachesaga/core',
      label: 'Quickstart',
      language: 'ts',
      source: block(core, '## Quickstart', 'ts'),
      needs: ['redis'],
      prints: block(core, 'It prints:', 'text'),
    },
    {
      packageName: '@cachesaga/core',
      label: 'Operating it',
      language: 'ts',
      source: block(core, '## Operating it', 'ts'),
      needs: ['redis'],
      prints: block(operating, 'It prints:', 'text'),
    },
    {
      packageName: '@cachesaga/saga',
      label: 'examples/book-appointment.ts',
      language: 'ts',
      source: file('saga', 'examples/book-appointment.ts'),
      needs: ['durable-redis'],
      prints: block(readme('saga'), 'It prints:', ''),
    },
    {
      packageName: '@cachesaga/queue',
      label: 'examples/quick-start.ts',
      language: 'ts',
      source: file('queue', 'examples/quick-start.ts'),
      needs: ['redis'],
    },
    {
      packageName: '@cachesaga/queue',
      label: 'examples/cache-maintenance.ts',
      language: 'ts',
      source: file('queue', 'examples/cache-maintenance.ts'),
      needs: ['redis'],
    },
    {
      packageName: '@cachesaga/postgres',
      label: 'examples/reservations.ts',
      language: 'ts',
      source: file('postgres', 'examples/reservations.ts'),
      needs: ['redis', 'postgres'],
    },
    {
      packageName: '@cachesaga/postgres',
      label: 'examples/booking-saga.ts',
      language: 'ts',
      source: file('postgres', 'examples/booking-saga.ts'),
      needs: ['redis', 'durable-postgres'],
      prints: printedAfter(readme('postgres'), '<!-- example:booking-saga:end -->'),
    },
    {
      packageName: '@cachesaga/cli',
      label: 'Example session',
      language: 'sh',
      source: block(cli, '## Example', 'sh'),
      needs: ['durable-redis'],
      prints: block(cli, 'It prints:', 'text'),
    },
  ]
}
