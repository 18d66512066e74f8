/**
 * What went wrong talking to Redis, for a person: the error's message, and for ioredis' Cluster, whose
 * "Failed to refresh slots cache." says nothing of why, the last node's own error (`WRONGPASS`,
 * `ECONNREFUSED`...) that it keeps in `lastNodeError`.
 */
export function redisFailureReason(error: unknown): string {
  if (!(error instanceof Error)) return error === undefined ? 'no answer' : String(error)
  const lastNode = (error as { lastNodeError?: unknown }).lastNodeError
  return lastNode instanceof Error ? `${error.message} (last node: ${lastNode.message})` : error.message
}
