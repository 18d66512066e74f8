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
  /** The path to it, innermost key first (pushed on the way back up). */
  keys: Array<string | number>
}

/**
 * The first part of `value` that cannot be represented, or undefined. Walks plain objects and arrays (and,
 * for serializers other than JSON, Maps and Sets); for JSON it also refuses cycles and `undefined` array
 * items, which JSON would turn into null. Paths are built only for what it reports.
 */
export function findUnrepresentable(value: unknown, json: boolean): Unrepresentable | undefined {
  const state: WalkState = { json, seen: undefined, tooDeep: false }
  let found = walk(value, 0, state)
  if (found === undefined && state.tooDeep) {
    // Deeper than usual: walk again with cycle detection (a cycle is what usually makes it deep).
    state.seen = new Set()
    found = walk(value, 0, state)
  }
  return found === undefined ? undefined : { what: found.what, path: found.keys.reverse().join('.') }
}

interface WalkState {
  json: boolean
  seen: Set<object> | undefined
  tooDeep: boolean
}

/** A plain recursive walk (no closures: it runs on every write). `keys` are pushed innermost first. */
function walk(node: unknown, depth: number, state: WalkState): Found | undefined {
  const what = state.json ? jsonProblem(node) : anyProblem(node)
  if (what !== undefined) return { what, keys: [] }
  if (typeof node !== 'object' || node === null || node instanceof Date) return undefined
  const seen = state.seen
  if (seen !== undefined) {
    if (seen.has(node)) return state.json ? { what: 'a circular reference', keys: [] } : undefined
    seen.add(node)
  } else if (depth > SHALLOW) {
    state.tooDeep = true
    return undefined
  }
  let found: Found | undefined
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) {
      const item: unknown = node[i]
      if (state.json && item === undefined) {
        found = { what: 'undefined in an array (JSON writes null)', keys: [i] }
        break
      }
      found = walk(item, depth + 1, state)
      if (found !== undefined) {
        found.keys.push(i)
        break
      }
    }
  } else if (node instanceof Map) {
    let i = 0
    for (const [key, item] of node) {
      found = walk(key, depth + 1, state)
      if (found !== undefined) {
        found.keys.push(`key ${i}`)
        break
      }
      found = walk(item, depth + 1, state)
      if (found !== undefined) {
        found.keys.push(typeof key === 'string' ? key : i)
        break
      }
      i++
    }
  } else if (node instanceof Set) {
    let i = 0
    for (const item of node) {
      found = walk(item, depth + 1, state)
      if (found !== undefined) {
        found.keys.push(i)
        break
      }
      i++
    }
  } else {
    for (const key in node) {
      if (!Object.hasOwn(node, key)) continue
      found = walk((node as Record<string, unknown>)[key], depth + 1, state)
      if (found !== undefined) {
        found.keys.push(key)
        break
      }
    }
  }
  seen?.delete(node)
  return found
}
