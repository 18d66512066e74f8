import { errorCode } from '@cachesaga/common'
import { type SagaChange, SagaError, type StepTransactions } from '@cachesaga/saga'
import type pg from 'pg'
import type { Database } from '../database/database.js'
import { type CommittingTransaction, commitOutcome } from './commit-outcome.js'
import type { SagaStatements } from './saga-statements.js'
import { leaseLost, storeFailure } from './store-failure.js'

/** A COMMIT whose answer never came: the connection broke, or the reply was later than the query timeout. */
const IN_DOUBT: ReadonlySet<string> = new Set(['PG_ERR_CONNECTION_LOST', 'PG_ERR_QUERY_TIMEOUT'])

/**
 * A step's business writes and the record that it completed, in one PostgreSQL transaction: both commit or neither.
 *
 * BEGIN; the fence is checked (a runner that lost its lease does no work); the step's `work` runs with the
 * transaction's client; its completion is written by `saga_advance`, which locks the saga's row and checks the fence
 * again, so from there to COMMIT no other runner can take the saga over; COMMIT. Between the two checks the row is
 * not locked: a takeover meanwhile makes the completion find another owner, and the whole transaction rolls back.
 *
 * The step's timeout (`signal`): during `work`, the backend running the transaction is terminated and the connection
 * destroyed (the server rolls back at once, even in the middle of a statement that hangs), and the attempt rejects
 * with the timeout; after `work`, the transaction is rolled back unless COMMIT was sent. A COMMIT that got no answer
 * is settled by asking PostgreSQL (`commitOutcome`): committed, the step's result is returned; aborted, the error is;
 * unknown, SAGA_ERR_STORE_FAILED says so.
 */
export class PostgresStepTransactions implements StepTransactions {
  constructor(
    private readonly database: Database,
    private readonly statements: SagaStatements,
    private readonly schema: string,
  ) {}

  async run<T>(
    fence: { sagaId: string; token: string },
    work: (transaction: unknown) => Promise<T>,
    completion: (result: T) => readonly SagaChange[],
    signal: AbortSignal,
  ): Promise<T> {
    if (signal.aborted) throw signal.reason
    const client = await this.database.connect()
    // A connection that dies while the step awaits something else would otherwise throw from an event handler.
    const ignore = () => {}
    client.on('error', ignore)
    const release = (destroy: boolean) => {
      client.off('error', ignore)
      client.release(destroy ? true : undefined)
    }
    let abortedDuringWork = false
    let pid: number | undefined
    let committing: CommittingTransaction | undefined
    let result: T
    try {
      await this.own(client, 'BEGIN')
      const opened = await this.own<{ pid: number; holds: boolean }>(client, this.statements.openStep, [
        fence.sagaId,
        fence.token,
      ])
      pid = opened.rows[0]!.pid
      if (!opened.rows[0]!.holds) throw leaseLost(fence.sagaId)

      result = await untilAborted(work(client), signal, () => {
        abortedDuringWork = true
      })
      if (signal.aborted) throw signal.reason
      const changes = JSON.stringify(completion(result))
      const { rows } = await this.own<{ applied: boolean; xid: string }>(
        client,
        this.statements.advanceInStep,
        [fence.sagaId, fence.token, changes],
      )
      if (!rows[0]?.applied) throw leaseLost(fence.sagaId)
      // The last point where the step's timeout still cancels it: once COMMIT is sent, its outcome is reported.
      if (signal.aborted) throw signal.reason
      committing = { xid: rows[0].xid, pid: pid! }
      await this.database.run(client, 'COMMIT')
      release(false)
      return result
    } catch (error) {
      if (committing) {
        await this.settleCommit(error, committing, fence.sagaId, release)
        return result!
      }
      if (abortedDuringWork) {
        // The step may be inside a statement, which a closed socket does not stop (the server notices only when it
        // answers): end the backend, so its transaction is rolled back and its locks go now, not when it is done.
        await this.database.query(this.statements.endStep, [pid]).catch(() => {})
        release(true)
        throw error
      }
      const rolledBack = await this.database.run(client, 'ROLLBACK').then(
        () => true,
        () => false,
      )
      release(!rolledBack)
      throw error
    }
  }

  /**
   * After COMMIT was sent: resolves when it committed after all; the server's refusal means rolled back, and no
   * answer means ask it what happened.
   */
  private async settleCommit(
    error: unknown,
    transaction: CommittingTransaction,
    sagaId: string,
    release: (destroy: boolean) => void,
  ): Promise<void> {
    const code = errorCode(error)
    if (code === undefined || !IN_DOUBT.has(code)) {
      // The server answered (a deferred constraint, a serialization failure): nothing was committed.
      release(false)
      throw error
    }
    release(true)
    const settled = await commitOutcome(this.database, transaction)
    if (settled.outcome === 'committed') return
    if (settled.outcome === 'aborted') throw error
    throw new SagaError(
      'SAGA_ERR_STORE_FAILED',
      `the commit of a step of saga "${sagaId}" got no answer from ${this.database.name}, and its outcome is ` +
        `unknown: ${settled.reason}. The saga's record says what committed once PostgreSQL can be read`,
      {
        cause: settled.cause ?? error,
        details: { target: this.database.name, sagaId, xid: transaction.xid },
      },
    )
  }

  /** A statement of the store's own in the transaction: its failures are coded as the store's. */
  private async own<Row extends pg.QueryResultRow>(
    client: pg.PoolClient,
    text: string,
    values?: unknown[],
  ): Promise<pg.QueryResult<Row>> {
    try {
      return await this.database.run<Row>(client, text, values)
    } catch (error) {
      throw storeFailure(error, this.database.name, this.schema)
    }
  }
}

/** `working`, or the signal's reason as soon as it aborts (then `onAbort`); `working` is never left unhandled. */
function untilAborted<T>(working: Promise<T>, signal: AbortSignal, onAbort: () => void): Promise<T> {
  working.catch(() => {})
  return new Promise<T>((resolve, reject) => {
    const abort = () => {
      onAbort()
      reject(signal.reason)
    }
    signal.addEventListener('abort', abort, { once: true })
    working.then(
      (value) => {
        signal.removeEventListener('abort', abort)
        resolve(value)
      },
      (error: unknown) => {
        signal.removeEventListener('abort', abort)
        reject(error)
      },
    )
  })
}
