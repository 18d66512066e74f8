/**
 * User globs: `*` matches any run of characters, `?` exactly one, `\x` is a literal x; every
 * other character is literal. They are translated for Redis `SCAN MATCH` (where `[`, `]` and `\`
 * are special too, so they are escaped) and to a RegExp for the keys held in L1.
 */
type Token = { kind: 'any' } | { kind: 'one' } | { kind: 'literal'; char: string }

function tokenize(glob: string): Token[] {
  const tokens: Token[] = []
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i]!
    if (char === '\\' && i + 1 < glob.length) tokens.push({ kind: 'literal', char: glob[++i]! })
    else if (char === '*') tokens.push({ kind: 'any' })
    else if (char === '?') tokens.push({ kind: 'one' })
    else tokens.push({ kind: 'literal', char })
  }
  return tokens
}

const REDIS_SPECIAL = new Set(['*', '?', '[', ']', '\\'])

/** The `SCAN MATCH` argument for `glob` below `prefix` (a prefix free of glob metacharacters). */
export function toRedisMatch(prefix: string, glob: string): string {
  let out = prefix
  for (const token of tokenize(glob)) {
    if (token.kind === 'any') out += '*'
    else if (token.kind === 'one') out += '?'
    else out += REDIS_SPECIAL.has(token.char) ? `\\${token.char}` : token.char
  }
  return out
}

/** A RegExp that matches exactly the keys `glob` matches. */
export function toRegExp(glob: string): RegExp {
  let source = '^'
  for (const token of tokenize(glob)) {
    if (token.kind === 'any') source += '.*'
    else if (token.kind === 'one') source += '.'
    else source += token.char.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  }
  return new RegExp(`${source}$`, 's')
}

/** True for a glob that matches every key: empty, or wildcards only with at least one `*`. */
export function matchesEverything(glob: string): boolean {
  const tokens = tokenize(glob)
  return (
    tokens.length === 0 || (tokens.every((t) => t.kind !== 'literal') && tokens.some((t) => t.kind === 'any'))
  )
}
