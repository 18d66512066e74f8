/**
 * The base class of every error a cachesaga package throws or records. The code is a field, never part of
 * the message: callers switch on `error.code` (stable, searchable in the READMEs), people read `message`,
 * and `details` carries the structured facts a caller may act on (a field name, a domain code, a report).
 */
export class CachesagaError<Code extends string = string> extends Error {
  override name = 'CachesagaError'
  readonly code: Code
  readonly details: Readonly<Record<string, unknown>> | undefined

  constructor(
    code: Code,
    message: string,
    options?: { cause?: unknown; details?: Readonly<Record<string, unknown>> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.details = options?.details
  }

  /** What a log line or an HTTP answer may carry: name, code, message and details, never the stack. */
  toJSON(): { name: string; code: Code; message: string; details?: Readonly<Record<string, unknown>> } {
    return this.details === undefined
      ? { name: this.name, code: this.code, message: this.message }
      : { name: this.name, code: this.code, message: this.message, details: this.details }
  }
}

/** The `code` field of any error that has one (cachesaga's, Node's `ECONNREFUSED`, pg's `23P01`), else undefined. */
export function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined
  const code = (error as { code?: unknown }).code
  return typeof code === 'string' ? code : undefined
}
