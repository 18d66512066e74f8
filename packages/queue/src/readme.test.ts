import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { runScript } from './test-support/run-script.js'
import { useRedis } from './test-support/use-redis.js'

describe('the README quick start', () => {
  const env = useRedis()

  it('is examples/quick-start.ts verbatim', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
    const example = readFileSync(new URL('../examples/quick-start.ts', import.meta.url), 'utf8')
    expect(readme).toContain(`\`\`\`ts\n${example}\`\`\``)
  })

  it('runs and prints what it promises', async () => {
    const { code, stdout, stderr } = await runScript('examples/quick-start.ts', env.server.url)
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' })
    const printed = stdout.trim().split('\n')
    expect(printed).toEqual([
      'bus saw booking.created',
      'queued on booking',
      'invalidate availability of dr-ada from 2026-03-02T09:00:00Z',
      'invalidate the schedule of dr-ada on 2026-03-02, 2026-03-03',
      '{"staffId":"dr-bo","days":["2026-03-04"]}',
      'CSQ_ERR_INVALID_EVENT booking.created v2: eventId: Invalid UUID',
      'completed: 1, lag samples: 1',
    ])
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
    expect(readme).toContain(`It prints:\n\n\`\`\`\n${printed.join('\n')}\n\`\`\``)
  })
})

describe('the README cache maintenance example', () => {
  const env = useRedis()

  it('is examples/cache-maintenance.ts verbatim, and warms through a scheduled job', async () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
    const example = readFileSync(new URL('../examples/cache-maintenance.ts', import.meta.url), 'utf8')
    expect(readme).toContain(`\`\`\`ts\n${example}\`\`\``)
    const { code, stdout } = await runScript('examples/cache-maintenance.ts', env.server.url)
    expect({ code, stdout }).toEqual({ code: 0, stdout: 'warmed: {"key":"service:haircut","minutes":30}\n' })
  })
})
