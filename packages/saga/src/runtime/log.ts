/** Where a runner writes what a person should know (the shape of @cachesaga/queue's worker log, so one fits both). */
export type SagaLog = (
  level: 'info' | 'warn' | 'error',
  message: string,
  fields?: Record<string, unknown>,
) => void

/** The default: one JSON line per entry on stderr, for a supervisor to ship as it is. */
export const jsonLinesLog: SagaLog = (level, message, fields) => {
  process.stderr.write(`${JSON.stringify({ level, message, ...fields, time: new Date().toISOString() })}\n`)
}
