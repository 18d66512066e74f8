/** Stable codes, so a failing setup can be searched for and asserted on. */
export type TestkitErrorCode =
  /** An option, an environment variable or a control's argument did not parse or does not apply; the message names it. */
  | 'TESTKIT_ERR_INVALID_INPUT'
  /** The `redis-server` binary is not on PATH. */
  | 'TESTKIT_ERR_BINARY_MISSING'
  /** A server process exited or did not become ready before its deadline. */
  | 'TESTKIT_ERR_SERVER_START'
  /** A fault control was called on a server the harness does not own (`REDIS_URL`). */
  | 'TESTKIT_ERR_EXTERNAL_SERVER'
  /** The nodes could not be joined into a cluster, or it did not reach `cluster_state:ok`. */
  | 'TESTKIT_ERR_CLUSTER_CREATE'
  /** A cluster did not become consistent (or a failover did not complete) before its deadline. */
  | 'TESTKIT_ERR_CLUSTER_UNSETTLED'
  /** `eventually()` gave up: the probe never succeeded before the deadline. */
  | 'TESTKIT_ERR_TIMEOUT'

/**
 * The one error class of the testkit. It follows the repository's error convention (the code is a field,
 * never part of the message; `details` holds structured facts) without extending `CachesagaError`, because
 * `@cachesaga/common`'s own tests depend on the testkit.
 */
export class TestkitError extends Error {
  override readonly name = 'TestkitError'
  readonly code: TestkitErrorCode
  readonly details: Readonly<Record<string, unknown>> | undefined

  constructor(
    code: TestkitErrorCode,
    message: string,
    options?: { cause?: unknown; details?: Readonly<Record<string, unknown>> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.details = options?.details
  }
}
