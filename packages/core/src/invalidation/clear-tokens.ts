import { randomBytes } from 'node:crypto'
import { CacheError } from '../errors.js'

const TOKEN_LIFETIME_MS = 60_000

/** Single-use, short-lived tokens that an emergency `clear` must present. */
export class ClearTokens {
  private readonly issued = new Map<string, number>()

  issue(): string {
    const token = randomBytes(16).toString('hex')
    this.issued.set(token, Date.now() + TOKEN_LIFETIME_MS)
    return token
  }

  /** Uses up `token`, or throws CS_ERR_CLEAR_TOKEN saying why it cannot be used. */
  consume(token: unknown): void {
    if (typeof token !== 'string' || token.length === 0) {
      throw new CacheError('CS_ERR_CLEAR_TOKEN', 'clear: a token from cache.requestClearToken() is required')
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
