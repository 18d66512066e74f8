import { randomBytes } from 'node:crypto'
import type { Redis } from 'ioredis'

export const CLEAR_TOKEN_LIFETIME_MS = 60_000

/**
 * Single-use clear-all tokens kept in Redis, so `--request-token` and `--token` can be two
 * processes. Core's own clear tokens live in the memory of one cache instance; once core keeps
 * them in Redis this store goes away.
 */
export class ClearAllTokens {
  constructor(
    private readonly redis: Redis,
    private readonly scope: string,
  ) {}

  async issue(): Promise<string> {
    const token = randomBytes(16).toString('hex')
    await this.redis.set(this.key(token), '1', 'PX', CLEAR_TOKEN_LIFETIME_MS)
    return token
  }

  /** True once per issued token within its lifetime; GETDEL makes the check and the use one step. */
  async consume(token: string): Promise<boolean> {
    return (await this.redis.getdel(this.key(token))) !== null
  }

  private key(token: string): string {
    return `cachesaga:cli:clear-all:{${this.scope}}:${token}`
  }
}
