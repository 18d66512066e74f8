import { errorCode } from '@cachesaga/common'

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
])
const CLIENT_ERROR_NAMES = new Set([
  'MaxRetriesPerRequestError',
  'ClusterAllFailedError',
  'ConnectionClosedError',
])
const CLIENT_MESSAGES =
  /Command timed out|Connection is closed|Stream isn't writeable|Failed to refresh slots cache|None of startup nodes is available|ECONNREFUSED/

/**
 * True for an error that says Redis could not be reached (refused, reset, timed out, closed), as opposed to an answer
 * from Redis (a `ReplyError` such as OOM) or a bug. The first kind passes when Redis comes back; the second does not.
 */
export function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false
  const code = errorCode(error)
  return (
    (code !== undefined && NETWORK_CODES.has(code)) ||
    CLIENT_ERROR_NAMES.has(error.name) ||
    CLIENT_MESSAGES.test(error.message)
  )
}
