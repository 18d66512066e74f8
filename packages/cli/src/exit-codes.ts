import { errorCode } from '@cachesaga/common'
import { CommanderError } from 'commander'

/** 0 ok, 1 the operation failed, 2 bad usage (nothing was done; change the command line). */
export type ExitCode = 0 | 1 | 2

/**
 * Error codes of every package that mean "the command line was wrong" rather than "the work failed".
 * Matched by `code`, not by class, so a duplicated package copy cannot change an exit code.
 */
const USAGE_CODES = new Set([
  'CLI_ERR_USAGE',
  'CLI_ERR_NOT_CONFIRMED',
  'CS_ERR_INVALID_OPTION',
  'CS_ERR_INVALID_KEY',
  'CS_ERR_INVALID_TARGET',
  'CS_ERR_MATCH_ALL_REFUSED',
  'CS_ERR_CLEAR_TOKEN',
  'CSQ_ERR_INVALID_OPTIONS',
  'CSQ_ERR_PURGE_TOKEN',
  'SAGA_ERR_INVALID_OPTIONS',
  'SAGA_ERR_UNKNOWN_SAGA',
])

export function exitCodeOf(error: unknown): ExitCode {
  if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2
  return USAGE_CODES.has(errorCode(error) ?? '') ? 2 : 1
}
