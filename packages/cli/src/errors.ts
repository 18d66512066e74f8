import { CachesagaError } from '@cachesaga/common'

/** Stable error codes of @cachesaga/cli. */
export type CliErrorCode =
  /** A flag, argument or environment variable is missing or malformed; the message names it. */
  | 'CLI_ERR_USAGE'
  /** A destructive command was not confirmed (no token, or no terminal to ask on); nothing was changed. */
  | 'CLI_ERR_NOT_CONFIRMED'
  /** The command ran but did not achieve what was asked (a saga parked again, an invalidation incomplete). */
  | 'CLI_ERR_FAILED'

/** The one error class of the CLI; `code` is stable, the message is for the operator. */
export class CliError extends CachesagaError<CliErrorCode> {
  override name = 'CliError'
}
