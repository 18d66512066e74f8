/**
 * Turns values into the strings L2 stores and back. `JSON` (the default) and `superjson` fit as they are;
 * so does anything with these two methods.
 */
export interface Serializer {
  stringify(value: unknown): string
  parse(text: string): unknown
}

/** A part of a value the serializer cannot represent, and where it is (`slots.3.start`; '' for the value itself). */
export interface Unrepresentable {
  path: string
  what: string
}

/**
 * What JSON would silently change or drop (it throws only for BigInt and cycles): such a value is refused
 * rather than cached altered. A Date is let through: it is written by its `toJSON`, an ISO string, and comes
 * back as that string everywhere (a serializer such as superjson keeps it a Date).
 */
function jsonProblem(value: unknown): string | undefined {
  switch (typeof value) {
    case 'bigint':
      return 'a BigInt'
    case 'function':
      return 'a function'
    case 'symbol':
      return 'a symbol'
    case 'number':
      return Number.isFinite(value) ? undefined : `the number ${value}`
    case 'object':
      if (value instanceof Map) return 'a Map'
      if (value instanceof Set) return 'a Set'
      if (value instanceof WeakMap || value instanceof WeakSet) return 'a WeakMap or WeakSet'
      return undefined
    default:
      return undefined
  }
}

/** What no serializer can carry to another process, whichever is configured. */
function anyProblem(value: unknown): string | undefined {
  if (typeof value === 'function') return 'a function'
  if (typeof value === 'symbol') return 'a symbol'
  return undefined
}

/** Nesting past which a value is walked again with cycle detection (cheaper to skip for the usual shallow one). */
const SHALLOW = 64

interface Found {
  what: string
  /** The path to it, innermost key last (filled in on the way back up). */
  keys: Array<string | number>
}

/**
 * The first part of `value` that cannot be represented, or undefined. Walks plain objects and arrays (and,
 * for serializers other than JSON, Maps and Sets); for JSON it also refuses cycles and `undefined` array
 * items, which JSON would turn into null. Paths are built only for what it reports.
 */
export function findUnrepresentable(value: unknown, json: boolean): Unrepresentable | undefined {
  const problemOf = json ? jsonProblem : anyProblem
  let seen: Set<object> | undefined
  let tooDeep = false
  const walk = (node: unknown, depth: number): Found | undefined => {
    const what = problemOf(node)
    if (what !== undefined) return { what, keys: [] }
    if (typeof node !== 'object' || node === null || node instanceof Date) return undefined
    if (seen !== undefined) {
      if (seen.has(node)) return json ? { what: 'a circular reference', keys: [] } : undefined
      seen.add(node)
    } else if (depth > SHALLOW) {
      tooDeep = true
      return undefined
    }
    const inside = (key: string | number, item: unknown): Found | undefined => {
      const found = walk(item, depth + 1)
      found?.keys.unshift(key)
      return found
    }
    let found: Found | undefined
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length && found === undefined; i++) {
        found =
          json && node[i] === undefined
            ? { what: 'undefined in an array (JSON writes null)', keys: [i] }
            : inside(i, node[i])
      }
    } else if (node instanceof Map) {
      let i = 0
      for (const [key, item] of node) {
        found = inside(`key ${i}`, key) ?? inside(typeof key === 'string' ? key : i, item)
        if (found !== undefined) break
        i++
      }
    } else if (node instanceof Set) {
      let i = 0
      for (const item of node) {
        found = inside(i++, item)
        if (found !== undefined) break
      }
    } else {
      for (const key in node) {
        if (!Object.hasOwn(node, key)) continue
        found = inside(key, (node as Record<string, unknown>)[key])
        if (found !== undefined) break
      }
    }
    seen?.delete(node)
    return found
  }
  let found = walk(value, 0)
  if (found === undefined && tooDeep) {
    seen = new Set()
    found = walk(value, 0)
  }
  return found === undefined ? undefined : { what: found.what, path: found.keys.join('.') }
}
