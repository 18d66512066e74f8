import { createHash } from 'node:crypto'

/**
 * Decodes an L2 entry as lua/fill.lua writes it: one string, fields separated by NUL (which no key,
 * tag, scope or function name may contain, and which JSON escapes):
 * `1 <count> {<dep> <version>}* <expiry> <grace end> <created> <JSON value>`.
 * A string instead of a HASH lets the read script fetch it in the same MGET as the counters and send
 * it back untouched, so a hit costs Redis one call and the client one bulk string.
 */
export interface DecodedEntry {
  /** The serialized value. */
  data: string
  expiresAt: number
  graceEnd: number
  createdAt: number
  /** Dependency suffixes the entry recorded, without the namespace generation every entry has. */
  deps: string[]
  /** Everything before the value: the recorded versions and times, which identify this fill (see `generationOf`). */
  stamp: string
}

const SEP = '\0'

export function decodeEntry(raw: string): DecodedEntry {
  let at = raw.indexOf(SEP, 2)
  const count = Number(raw.slice(2, at))
  const deps: string[] = []
  for (let i = 0; i < count; i++) {
    const depEnd = raw.indexOf(SEP, at + 1)
    const dep = raw.slice(at + 1, depEnd)
    if (dep !== 'n') deps.push(dep)
    at = raw.indexOf(SEP, depEnd + 1)
  }
  const xEnd = raw.indexOf(SEP, at + 1)
  const gEnd = raw.indexOf(SEP, xEnd + 1)
  const cEnd = raw.indexOf(SEP, gEnd + 1)
  return {
    data: raw.slice(cEnd + 1),
    expiresAt: Number(raw.slice(at + 1, xEnd)),
    graceEnd: Number(raw.slice(xEnd + 1, gEnd)),
    createdAt: Number(raw.slice(gEnd + 1, cEnd)),
    deps,
    stamp: raw.slice(0, cEnd),
  }
}

/**
 * The stamp fill.lua writes for `deps` (namespace generation first) recorded at `versions`, so a value
 * served straight from the loader carries the same stamp as its copies read back from Redis.
 */
export function encodeStamp(
  deps: readonly string[],
  versions: readonly string[],
  expiresAt: number,
  graceEnd: number,
  createdAt: number,
): string {
  let stamp = `1${SEP}${deps.length}`
  for (let i = 0; i < deps.length; i++) stamp += `${SEP}${deps[i]}${SEP}${versions[i] ?? ''}`
  return `${stamp}${SEP}${expiresAt}${SEP}${graceEnd}${SEP}${createdAt}`
}

/** A read's generation: a short hash of its entry's stamp, computed only when a caller asks for it. */
export function generationOf(stamp: string): string {
  return createHash('sha256').update(stamp).digest('base64url').slice(0, 16)
}
