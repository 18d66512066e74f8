/** Stable codes, so a failing setup can be searched for and asserted on. */
export type TestkitErrorCode =
  /** An option or an environment variable did not parse; the message names the field. */
  | 'TESTKIT_ERR_INVALID_INPUT'
  /** A server binary (`redis-server`, `redis-cli`) is not on PATH. */
  | 'TESTKIT_ERR_BINARY_MISSING'
  /** A server process exited or did not become ready before its deadline. */
  | 'TESTKIT_ERR_SERVER_START'
  /** A fault control was called on a server the harness does not own (`REDIS_URL`). */
  | 'TESTKIT_ERR_EXTERNAL_SERVER'
  /** `redis-cli --cluster create` failed or the cluster did not reach `cluster_state:ok`. */
  | 'TESTKIT_ERR_CLUSTER_CREATE'

/** The one error class of the testkit. */
export class TestkitError extends Error {
  override readonly name = 'TestkitError'

  constructor(
    readonly code: TestkitErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${code}: ${message}`, options)
  }
}
