import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'

const read = (relative: string) => readFileSync(new URL(relative, import.meta.url), 'utf8')

describe('README', () => {
  it('shows examples/outage.test.ts verbatim, so the example it shows is the one the test run executes', () => {
    const example = read('../examples/outage.test.ts')
    expect(read('../README.md')).toContain(`\`\`\`ts\n${example}\`\`\``)
  })
})
