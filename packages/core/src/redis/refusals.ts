/**
 * Whether Redis refused a command for a reason that a retry cannot change: the user lacks the right (`NOPERM`, or a
 * script's inner command refused by the ACL) or the key holds another type (`WRONGTYPE`). Redis sends its error code
 * as the first word of the reply; that word is the protocol's field, not prose.
 */
export function isPermanentRefusal(error: unknown): boolean {
  if (!(error instanceof Error) || error.name !== 'ReplyError') return false
  const code = error.message.split(' ', 1)[0]
  return (
    code === 'NOPERM' ||
    code === 'WRONGTYPE' ||
    // A script's inner command refused by the ACL comes back as a generic error naming the cause.
    error.message.includes("user executing the script can't run this command")
  )
}
