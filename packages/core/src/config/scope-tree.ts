import { CacheError } from '../errors.js'

/**
 * Checks scope paths (`'tenant:acme/branch:3'`) against the application's declared levels. Without
 * declared levels any `/`-separated path of non-empty segments is accepted.
 */
export class ScopeTree {
  constructor(private readonly levels: readonly string[] | undefined) {}

  /** Returns the path unchanged, or throws a CacheError naming `field`. */
  check(path: string, field: string): string {
    const segments = path.split('/')
    if (
      path.length === 0 ||
      path.length > 1024 ||
      path.includes('\0') ||
      segments.some((s) => s.length === 0)
    ) {
      throw new CacheError(
        'CS_ERR_INVALID_OPTION',
        `${field}: a scope path is '/'-separated non-empty segments, got ${JSON.stringify(path)}`,
      )
    }
    const levels = this.levels
    if (levels === undefined) return path
    if (segments.length > levels.length) {
      throw new CacheError(
        'CS_ERR_INVALID_OPTION',
        `${field}: ${JSON.stringify(path)} is deeper than the scope levels ${levels.join(' > ')}`,
      )
    }
    segments.forEach((segment, depth) => {
      const colon = segment.indexOf(':')
      const level = colon > 0 ? segment.slice(0, colon) : ''
      if (level !== levels[depth] || colon === segment.length - 1) {
        throw new CacheError(
          'CS_ERR_INVALID_OPTION',
          `${field}: segment ${depth + 1} of ${JSON.stringify(path)} must be '${levels[depth]}:<id>'`,
        )
      }
    })
    return path
  }
}
