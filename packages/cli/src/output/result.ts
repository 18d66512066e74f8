import type { ExitCode } from '../exit-codes.js'
import type { CliIo } from '../io.js'

/** What a command hands back: the same outcome for people and for scripts. */
export interface CommandResult {
  /** Lines for a person. */
  human: string[]
  /** The document `--json` prints. */
  json: unknown
  /** Things the operator should know that did not fail the command (printed on stderr). */
  warnings?: string[]
  /** 1 when the command ran but did not achieve what was asked; default 0. */
  exitCode?: ExitCode
}

export function writeResult(io: CliIo, json: boolean, result: CommandResult): ExitCode {
  if (json) io.stdout.write(`${JSON.stringify(result.json, null, 2)}\n`)
  else if (result.human.length > 0) io.stdout.write(`${result.human.join('\n')}\n`)
  for (const warning of result.warnings ?? []) io.stderr.write(`cachesaga: warning: ${warning}\n`)
  return result.exitCode ?? 0
}

/** Errors go to stderr: a line for people, or `{ "error": { code, message, report? } }` for scripts. */
export function writeError(
  io: CliIo,
  json: boolean,
  error: { code?: string; message: string; report?: unknown },
) {
  if (json) {
    const { code, message, report } = error
    io.stderr.write(
      `${JSON.stringify({ error: { code, message, ...(report !== undefined && { report }) } })}\n`,
    )
  } else {
    io.stderr.write(`cachesaga: ${error.message}\n`)
  }
}

/** `2 keys`, `1 key`. */
export function count(n: number, singular: string, plural = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : plural}`
}
