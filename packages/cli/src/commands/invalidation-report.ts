import type { InvalidationReport } from '@cachesaga/core'
import type { CommandContext } from '../command-context.js'

/** The report as `--json` prints it: which cache, then core's report unchanged. */
export function reportDocument(context: CommandContext, report: InvalidationReport): Record<string, unknown> {
  const { namespace, tenant } = context.globals
  return { namespace, ...(tenant !== undefined && { tenant }), ...report }
}

/** A process that exits right after invalidating cannot retry a bus message later, so say so. */
export function busWarnings(report: InvalidationReport): string[] {
  if (report.dryRun || report.published) return []
  return [
    'the bus message did not reach Redis: other instances keep their in-memory copies until l1.maxAge passes',
  ]
}
