import { expect, it } from 'vitest'
import { soakOptions } from './defaults.js'
import { FAULT_KINDS } from './fault-plan.js'
import { formatReport } from './format-report.js'
import { runSoak } from './run-soak.js'

// `pnpm soak` runs it for as long as asked; CI runs it for 30 s with every fault, a fault every 1-2 s so that
// each kind comes up. The seed varies from run to run (SOAK_SEED replays one); the report names it.
it('30 s of traffic under every fault: no read staler than the documented bounds, no slow call, nothing stuck', async () => {
  const seed = Number(process.env.SOAK_SEED ?? Math.floor(Math.random() * 1_000_000))
  const report = await runSoak(soakOptions({ durationMs: 30_000, seed, faultEveryMs: [1_000, 2_000] }))
  const printed = formatReport(report)
  expect(new Set(report.faults.map((fault) => fault.kind)), printed).toEqual(new Set(FAULT_KINDS))
  expect(report.reads, printed).toBeGreaterThan(10_000)
  expect(report.violations, printed).toEqual([])
}, 180_000)
