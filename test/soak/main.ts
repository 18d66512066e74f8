// `pnpm soak`: a fault-injecting freshness soak of @cachesaga/core. Exits 1 on any violation.
//   pnpm soak [--duration 10m] [--nodes 3] [--items 20] [--seed 7] [--faults pause,partition | --no-faults]
//             [--defect dropBusMessages | fillWithoutGenerationCheck | skipL1Delete | skipTagBump]
import { parseArgs } from 'node:util'
import { durationSchema } from '@cachesaga/common'
import { z } from 'zod'
import { soakOptions } from './defaults.js'
import { FAULT_KINDS } from './fault-plan.js'
import { formatReport } from './format-report.js'
import { DEFECTS } from './records.js'
import { runSoak } from './run-soak.js'

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '30s' },
    nodes: { type: 'string', default: '3' },
    items: { type: 'string', default: '20' },
    seed: { type: 'string' },
    faults: { type: 'string' },
    'no-faults': { type: 'boolean', default: false },
    defect: { type: 'string' },
  },
})

const argsSchema = z.object({
  duration: durationSchema,
  nodes: z.coerce.number().int().min(2).max(16),
  items: z.coerce.number().int().min(1).max(10_000),
  seed: z.coerce
    .number()
    .int()
    .nonnegative()
    .default(() => Math.floor(Math.random() * 1_000_000)),
  faults: z
    .string()
    .transform((list) => list.split(',').map((kind) => kind.trim()))
    .pipe(z.array(z.enum(FAULT_KINDS)))
    .default([...FAULT_KINDS]),
  'no-faults': z.boolean(),
  defect: z.enum(DEFECTS).optional(),
})

const parsed = argsSchema.safeParse(values)
if (!parsed.success) {
  const issue = parsed.error.issues[0]!
  console.error(`--${issue.path.join('.')}: ${issue.message}`)
  process.exit(2)
}
const args = parsed.data
const report = await runSoak(
  soakOptions({
    durationMs: args.duration,
    nodes: args.nodes,
    items: args.items,
    faults: args['no-faults'] ? [] : args.faults,
    seed: args.seed,
    defect: args.defect,
    log: (line) => console.log(line),
  }),
)
console.log(formatReport(report))
process.exit(report.violations.length === 0 ? 0 : 1)
