import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'

const read = (relative: string) => readFileSync(new URL(relative, import.meta.url), 'utf8')

describe('README', () => {
  it.each(['outage.test.ts', 'rollback-and-failover.test.ts'])(
    'shows examples/%s verbatim, so the example it shows is the one the test run executes',
    (file) => {
      const example = read(`../examples/${file}`)
      expect(read('../README.md')).toContain(`\`\`\`ts\n${example}\`\`\``)
    },
  )
})
