import { CacheError } from '../errors.js'
import { deepFreeze, freezeParsed } from './deep-freeze.js'
import { findUnrepresentable, type Serializer } from './serializer.js'

/**
 * Turns values into the strings L2 stores and back, the same way on every instance: what a caller gets
 * (from the loader, L1, L2 or another instance) is always the decoded, frozen form of what was stored.
 * A value the serializer cannot represent is a programming error: CS_ERR_UNSERIALIZABLE names the key and
 * the offending path, and nothing is cached.
 */
export class ValueCodec {
  private readonly json: boolean

  constructor(
    private readonly serializer: Serializer,
    /** Counts refusals (`stats().unserializable`). */
    private readonly refused: () => void,
  ) {
    this.json = serializer === JSON
  }

  encode(key: string, value: unknown): string {
    if (value === undefined) throw this.refuse(key, { path: '', what: 'undefined' })
    const problem = findUnrepresentable(value, this.json)
    if (problem !== undefined) throw this.refuse(key, problem)
    let text: unknown
    try {
      text = this.serializer.stringify(value)
    } catch (error) {
      throw this.refuse(key, { path: '', what: `a value the serializer rejected (${String(error)})` }, error)
    }
    if (typeof text !== 'string')
      throw this.refuse(key, { path: '', what: 'a value the serializer turned into no string' })
    return text
  }

  /** The text a value is written as, for comparing copies (the consistency checker); never throws or counts. */
  text(value: unknown): string {
    try {
      return this.serializer.stringify(value) ?? 'undefined'
    } catch {
      return String(value)
    }
  }

  decode(text: string): unknown {
    const value = this.serializer.parse(text)
    return this.json ? freezeParsed(value) : deepFreeze(value)
  }

  private refuse(key: string, problem: { path: string; what: string }, cause?: unknown): CacheError {
    this.refused()
    const where = problem.path === '' ? '' : ` at ${problem.path}`
    const hint = this.json
      ? ' (a serializer such as superjson can represent Dates, Maps, Sets and BigInts)'
      : ''
    return new CacheError(
      'CS_ERR_UNSERIALIZABLE',
      `value of ${JSON.stringify(key)}${where} cannot be cached: it is ${problem.what}${hint}`,
      { ...(cause === undefined ? {} : { cause }), details: { key, path: problem.path, what: problem.what } },
    )
  }
}
