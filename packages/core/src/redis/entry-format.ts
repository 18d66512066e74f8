import type { DependencyVersion, EntryTimes, Recorded } from '../stack/fence.js'

/**
 * The byte format of an L2 entry; private to the Redis protocol (no script reads it: fill.lua and set.lua
 * store what the client built). One string, fields separated by NUL, which no key, tag, scope or name may
 * contain and which the serializers escape:
 *
 *   `2␀<namespace generation>␀<count>␀{<dependency>␀<version>␀}*<expiry>␀<grace end>␀<created>␀<value>`
 *
 * The leading `2` is the format version: an entry of another format reads as invalidated, and the next fill
 * replaces it. A string (not a hash) lets one MGET fetch it with the counters it must be checked against.
 */
export interface StoredEntry extends EntryTimes {
  /** The serialized value. */
  readonly data: string
  readonly recorded: Recorded
}

const SEP = '\0'
const VERSION = '2'

export function encodeEntry(recorded: Recorded, times: EntryTimes, data: string): string {
  let out = `${VERSION}${SEP}${recorded.namespaceGeneration}${SEP}${recorded.dependencies.length}`
  for (const { dependency, version } of recorded.dependencies) out += `${SEP}${dependency}${SEP}${version}`
  return `${out}${SEP}${times.expiresAt}${SEP}${times.graceEnd}${SEP}${times.createdAt}${SEP}${data}`
}

/** The entry, or undefined when `raw` is not an entry of this format. */
export function decodeEntry(raw: string): StoredEntry | undefined {
  if (raw.charCodeAt(0) !== 50 /* '2' */ || raw.charCodeAt(1) !== 0) return undefined
  let end = raw.indexOf(SEP, 2)
  const namespaceGeneration = raw.slice(2, end)
  let at = end + 1
  end = raw.indexOf(SEP, at)
  const count = Number(raw.slice(at, end))
  const dependencies: DependencyVersion[] = []
  for (let i = 0; i < count; i++) {
    at = end + 1
    end = raw.indexOf(SEP, at)
    const dependency = raw.slice(at, end)
    at = end + 1
    end = raw.indexOf(SEP, at)
    dependencies.push({ dependency, version: raw.slice(at, end) })
  }
  at = end + 1
  end = raw.indexOf(SEP, at)
  const expiresAt = Number(raw.slice(at, end))
  at = end + 1
  end = raw.indexOf(SEP, at)
  const graceEnd = Number(raw.slice(at, end))
  at = end + 1
  end = raw.indexOf(SEP, at)
  if (end === -1) return undefined
  return {
    data: raw.slice(end + 1),
    expiresAt,
    graceEnd,
    createdAt: Number(raw.slice(at, end)),
    recorded: { namespaceGeneration, dependencies },
  }
}
