import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type pg from 'pg'

/** A booking's management token, given once to whoever made it, and the hash of it that is stored. */
export interface ManagementToken {
  /** 32 random bytes, base64url: what the customer keeps and presents to cancel or move the booking. */
  token: string
  /** SHA-256 of the token, hex: all the database (and the saga's record) ever holds. */
  hash: string
}

/**
 * SHA-256 of a token. A plain fast hash is enough here, unlike for a password: the token is 256 random bits, so
 * a stolen hash cannot be reversed by guessing.
 */
export function hashManagementToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex')
}

export function newManagementToken(): ManagementToken {
  const token = randomBytes(32).toString('base64url')
  return { token, hash: hashManagementToken(token) }
}

/** Compared against when a booking has no stored hash (or none exists), so every check does the same work. */
const NO_HASH = Buffer.alloc(32)

/** Whether a caller holds a booking's management token. */
export class BookingOwnership {
  constructor(private readonly pool: pg.Pool) {}

  /**
   * True only when `token` hashes to the hash stored with the booking. False for no token, a wrong one, a booking
   * without a token (made outside the API) and a booking that does not exist, alike. Constant-time comparison.
   */
  async holds(tenantId: string, bookingId: string, token: string | undefined): Promise<boolean> {
    const { rows } = await this.pool.query<{ management_token_hash: Buffer | null }>(
      'SELECT management_token_hash FROM bookings WHERE tenant_id = $1 AND id = $2',
      [tenantId, bookingId],
    )
    const stored = rows[0]?.management_token_hash ?? null
    const presented = Buffer.from(hashManagementToken(token ?? ''), 'hex')
    const equal = timingSafeEqual(presented, stored ?? NO_HASH)
    return equal && stored !== null && token !== undefined
  }
}
