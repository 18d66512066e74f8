import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'

/** What an operator may do: `operator` everything, `viewer` only look. */
export type OperatorRole = 'operator' | 'viewer'

/** A user name and password, as HTTP Basic authentication carries them. */
export interface BasicCredential {
  username: OperatorRole
  password: string
}

/** A new password for an operator user: 24 random bytes, 32 characters. */
export function newOperatorPassword(): string {
  return randomBytes(24).toString('base64url')
}

/** The `Authorization` header value of a Basic credential. */
export function basicAuthorization({ username, password }: BasicCredential): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest()
}

/**
 * The operators' HTTP Basic credentials: the user `operator` with its password, and optionally the user `viewer`
 * (read-only). Passwords are compared as SHA-256 digests with `timingSafeEqual`, so the comparison takes the
 * same time whatever the password presented and however much of it is right; both users are always checked.
 */
export class OperatorCredentials {
  private readonly operator: Buffer
  private readonly viewer: Buffer | undefined

  constructor(passwords: { operator: string; viewer?: string | undefined }) {
    this.operator = digest(passwords.operator)
    this.viewer = passwords.viewer === undefined ? undefined : digest(passwords.viewer)
  }

  /** The role an `Authorization` header proves, or `undefined` when it is absent, malformed or wrong. */
  roleOf(authorization: string | undefined): OperatorRole | undefined {
    const match = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(authorization ?? '')
    if (!match) return undefined
    const decoded = Buffer.from(match[1]!, 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    if (colon < 0) return undefined
    const username = decoded.slice(0, colon)
    const presented = digest(decoded.slice(colon + 1))
    const isOperator = timingSafeEqual(presented, this.operator)
    // Compared even when there is no viewer (against the operator's digest), so its absence does not show in time.
    const isViewer = timingSafeEqual(presented, this.viewer ?? this.operator) && this.viewer !== undefined
    if (username === 'operator' && isOperator) return 'operator'
    if (username === 'viewer' && isViewer) return 'viewer'
    return undefined
  }
}
