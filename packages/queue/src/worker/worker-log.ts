export type LogLevel = 'info' | 'warn' | 'error'
export type WorkerLog = (level: LogLevel, message: string, fields?: Record<string, unknown>) => void

/** One JSON line per entry on stderr, so a supervisor can ship it as is. */
export const jsonLinesLog: WorkerLog = (level, message, fields) => {
  process.stderr.write(`${JSON.stringify({ level, message, ...fields, time: new Date().toISOString() })}\n`)
}
