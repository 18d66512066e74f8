import { randomBytes } from 'node:crypto'
import { CacheError } from '../errors.js'
import type { RedisProtocol } from '../redis/redis-protocol.js'

/** How long a clear token can be used. */
export const CLEAR_TOKEN_LIFETIME_MS = 60_000

/**
 * Single-use, short-lived tokens that an emergency `clear` must present. With Redis they live there
 * (consumed with `GETDEL`, so checking and using are one step), so a token issued by one process (an
 * operator's terminal) works in another; memory-only caches keep them in memory.
 */
export class ClearTokens {
  private readonly issued = new Map<string, number>()

  constructor(private readonly l2: Pick<RedisProtocol, 'storeClearToken' | 'takeClearToken'> | undefined) {}

  async issue(): Promise<string> {
    const token = randomBytes(16).toString('hex')
    if (this.l2 === undefined) this.issued.set(token, Date.now() + CLEAR_TOKEN_LIFETIME_MS)
    else await this.l2.storeClearToken(token, CLEAR_TOKEN_LIFETIME_MS)
    return token
  }

  /** Uses up `token`, or throws CS_ERR_CLEAR_TOKEN saying why it cannot be used. */
  async consume(token: unknown): Promise<void> {
    if (typeof token !== 'string' || token.length === 0) {
      throw new CacheError('CS_ERR_CLEAR_TOKEN', 'clear: a token from cache.requestClearToken() is required')
    }
    if (this.l2 !== undefined) {
      if (!(await this.l2.takeClearToken(token))) {
        throw new CacheError(
          'CS_ERR_CLEAR_TOKEN',
          'clear: unknown token (wrong, already used or expired); nothing was deleted',
        )
      }
      return
    }
    const expiresAt = this.issued.get(token)
    if (expiresAt === undefined) {
      throw new CacheError(
        'CS_ERR_CLEAR_TOKEN',
        'clear: unknown token (wrong, or already used); nothing was deleted',
      )
    }
    this.issued.delete(token)
    if (Date.now() >= expiresAt) {
      throw new CacheError(
        'CS_ERR_CLEAR_TOKEN',
        'clear: the token expired; request a new one; nothing was deleted',
      )
    }
  }
}
