// `pnpm bench`: runs the suites side by side with the peers on one private Redis and writes bench/RESULTS.md.
// `pnpm bench --only cache,queue` runs some suites; `--quick` shrinks iteration counts for a smoke run.
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { startRedis } from '@cachesaga/testkit'
import { Redis } from 'ioredis'
import { CONTENDERS } from './contenders.js'
import { describeMachine } from './machine.js'
import { runCacheReadsBench } from './suites/cache-reads.js'
import { runPropagationBench } from './suites/propagation.js'
import { runQueueBench } from './suites/queue.js'
import { runStampedeBench } from './suites/stampede.js'

const SUITES = ['cache', 'stampede', 'propagation', 'queue'] as const
type Suite = (typeof SUITES)[number]

const { values } = parseArgs({
  options: { only: { type: 'string' }, quick: { type: 'boolean', default: false }, out: { type: 'string' } },
})
const selected = new Set<Suite>(
  values.only ? (values.only.split(',').map((s) => s.trim()) as Suite[]) : [...SUITES],
)
for (const suite of selected) {
  if (!SUITES.includes(suite)) {
    console.error(`unknown suite '${suite}'; choose from ${SUITES.join(', ')}`)
    process.exit(2)
  }
}
const quick = values.quick
const out = values.out ?? new URL('../RESULTS.md', import.meta.url).pathname

const server = await startRedis({ args: ['--maxmemory-policy', 'noeviction'] })
const admin = new Redis(server.url)
const sections: string[] = [
  '# Benchmark results',
  'Written by `pnpm bench` (bench/src/run.ts). All contenders run in one process (propagation: two), on one Redis,',
  'in interleaved rounds; each figure is the median round. Compare ratios: this machine is shared and noisy.',
  '## Machine',
  await describeMachine(admin),
]
const log = (s: string) => console.log(`[bench] ${s}`)

try {
  if (selected.has('cache')) {
    log('cache reads')
    sections.push(
      '## Cache reads',
      await runCacheReadsBench({
        redisUrl: server.url,
        contenders: CONTENDERS,
        subject: 'cachesaga',
        ops: quick ? 2_000 : 20_000,
        rounds: quick ? 1 : 5,
      }),
    )
  }
  if (selected.has('stampede')) {
    log('stampede')
    sections.push('## Stampede', await runStampedeBench({ redisUrl: server.url, contenders: CONTENDERS }))
  }
  if (selected.has('propagation')) {
    log('propagation')
    sections.push('## Propagation', await runPropagationBench({ redisUrl: server.url, contenders: CONTENDERS }))
  }
  if (selected.has('queue')) {
    log('queue')
    sections.push('## Queue', await runQueueBench({ redisUrl: server.url }))
  }
} finally {
  admin.disconnect()
  await server.stop()
}

writeFileSync(out, `${sections.join('\n\n')}\n`)
log(`wrote ${out}`)
