import type {
  AcquireOutcome,
  InvalidationRetryJob,
  Lease,
  NewSaga,
  OperatorDecision,
  SagaChange,
  SagaLogEntry,
  SagaRecord,
  SagaState,
  SagaStore,
  StepTransactions,
} from '@cachesaga/saga'
import { createdRecord, SagaError } from '@cachesaga/saga'
import type pg from 'pg'
import { z } from 'zod'
import type { Database } from '../database/database.js'
import { openDatabase } from '../database/open-database.js'
import { type DatabaseOptions, databaseOptionsShape } from '../database/postgres-connection.js'
import { PostgresError } from '../errors.js'
import { identifierSchema, parseOptions } from '../parse-options.js'
import { checkPostgresDurability } from './durability.js'
import { type LogRow, logEntryFromRow, type RecordDocument, recordFromDocument } from './record-document.js'
import { type SagaStatements, sagaStatements } from './saga-statements.js'
import { PostgresStepTransactions } from './step-transactions.js'
import { leaseLost, storeFailure } from './store-failure.js'

export interface PostgresSagaStoreOptions extends DatabaseOptions {
  /** The schema of the saga tables, as given to `sagaStoreSql` or `installSagaStore`. Default `cachesaga`. */
  schema?: string
}

const optionsSchema = z.object({ ...databaseOptionsShape, schema: identifierSchema.default('cachesaga') })

type AcquireDocument =
  | { outcome: 'created' }
  | { outcome: 'acquired' | 'finished'; record: RecordDocument }
  | { outcome: 'busy'; state: SagaState }
  | { outcome: 'missing' }
  | { outcome: 'conflict'; recordedName: string }

type DecideDocument =
  | { outcome: 'ok'; state: SagaState }
  | { outcome: 'not_found' }
  | { outcome: 'invalid_state'; state: SagaState }
  | { outcome: 'wrong_step'; parkedStep: string }

/**
 * Sagas in PostgreSQL, beside the business data: a `SagaStore` for `createSagaRunner({ store })`. Every write of a
 * saga is one statement calling a function of the migration (`sagaStoreSql`), atomic and fenced by the lease token in
 * the saga's row; the recovery sweep reads expired leases with `FOR UPDATE SKIP LOCKED`. It offers step transactions:
 * a step declared `transaction: true` gets a pg client inside BEGIN as `ctx.transaction`, and its completion commits
 * with what the step wrote through it (see `PostgresStepTransactions`).
 *
 * Every call is bounded by `connectTimeout` and `queryTimeout` and fails with a coded error naming the database
 * (PG_ERR_UNREACHABLE, PG_ERR_QUERY_TIMEOUT, PG_ERR_NOT_INSTALLED; a refused statement is SAGA_ERR_STORE_FAILED).
 * A pool passed as `database` is used as is and never closed: pass the app's pool, and the steps' transactions run
 * on the database the app writes to.
 */
export class PostgresSagaStore implements SagaStore {
  readonly description: string
  readonly stepTransactions: StepTransactions
  private readonly database: Database
  private readonly schema: string
  private readonly statements: SagaStatements
  private installed: Promise<void> | undefined

  constructor(options: PostgresSagaStoreOptions) {
    const parsed = parseOptions(optionsSchema, options, 'PostgresSagaStoreOptions')
    this.database = openDatabase(parsed, 'cachesaga-saga-store')
    this.schema = parsed.schema
    this.statements = sagaStatements(parsed.schema)
    this.description = `${this.database.name} (schema ${parsed.schema})`
    this.stepTransactions = new PostgresStepTransactions(this.database, this.statements, parsed.schema)
  }

  /** Reaches the database and finds the migration applied (PG_ERR_NOT_INSTALLED otherwise); once it has, at once. */
  ready(): Promise<void> {
    this.installed ??= this.checkInstalled().catch((error: unknown) => {
      this.installed = undefined
      throw error
    })
    return this.installed
  }

  /** `fsync`, `synchronous_commit` and `full_page_writes` of the store's sessions, and logged tables (`durability.ts`). */
  async checkDurability(): Promise<void> {
    await this.ready()
    try {
      await checkPostgresDurability(this.database, this.schema)
    } catch (error) {
      throw storeFailure(error, this.database.name, this.schema)
    }
  }

  close(): Promise<void> {
    return this.database.close()
  }

  async acquire(sagaId: string, lease: Lease, create?: NewSaga): Promise<AcquireOutcome> {
    const changes = create?.changes?.length ? JSON.stringify(create.changes) : null
    const { acquired } = await this.one<{ acquired: AcquireDocument }>(this.statements.acquire, [
      sagaId,
      lease.token,
      lease.ms,
      create?.name ?? null,
      create?.inputJson ?? null,
      changes,
    ])
    switch (acquired.outcome) {
      case 'created':
        // As written: the saga, running, with the changes applied; no need to read it back.
        return { outcome: 'created', record: createdRecord(sagaId, create!) }
      case 'acquired':
      case 'finished':
        return { outcome: acquired.outcome, record: recordFromDocument(sagaId, acquired.record) }
      default:
        return acquired
    }
  }

  async renewLease(sagaId: string, lease: Lease): Promise<boolean> {
    const { rowCount } = await this.query(this.statements.renewLease, [sagaId, lease.token, lease.ms])
    return rowCount === 1
  }

  async advance(sagaId: string, token: string, changes: readonly SagaChange[]): Promise<void> {
    const { applied } = await this.one<{ applied: boolean }>(this.statements.advance, [
      sagaId,
      token,
      JSON.stringify(changes),
    ])
    if (!applied) throw leaseLost(sagaId)
  }

  async decide(
    sagaId: string,
    decision: OperatorDecision,
    by: { actor: string; step?: string | undefined; note?: string | undefined },
  ): Promise<SagaState> {
    const { decided } = await this.one<{ decided: DecideDocument }>(this.statements.decide, [
      sagaId,
      decision,
      by.step ?? null,
      by.actor,
      by.note ?? null,
    ])
    switch (decided.outcome) {
      case 'ok':
        return decided.state
      case 'not_found':
        throw new SagaError('SAGA_ERR_NOT_FOUND', `no saga "${sagaId}"`, { details: { sagaId } })
      case 'wrong_step':
        throw new SagaError(
          'SAGA_ERR_INVALID_STATE',
          `saga "${sagaId}" waits on step "${decided.parkedStep}", not "${by.step}"`,
          { details: { sagaId, parkedStep: decided.parkedStep } },
        )
      case 'invalid_state':
        throw new SagaError(
          'SAGA_ERR_INVALID_STATE',
          `saga "${sagaId}" is ${decided.state}; only parked or compensation_failed sagas take operator actions`,
          { details: { sagaId, state: decided.state } },
        )
    }
  }

  async load(sagaId: string): Promise<SagaRecord | undefined> {
    const { record } = await this.one<{ record: RecordDocument | null }>(this.statements.load, [sagaId])
    return record === null ? undefined : recordFromDocument(sagaId, record)
  }

  async readLog(sagaId: string): Promise<SagaLogEntry[]> {
    const { rows } = await this.query<LogRow>(this.statements.readLog, [sagaId])
    return rows.map(logEntryFromRow)
  }

  async listByState(state: SagaState): Promise<string[]> {
    const { rows } = await this.query<{ saga_id: string }>(this.statements.listByState, [state])
    // Sorted here, as the Redis store sorts: the database's collation may order ids differently.
    return rows.map((row) => row.saga_id).sort()
  }

  async expiredLeases(limit: number): Promise<Array<{ sagaId: string; name: string }>> {
    const { rows } = await this.query<{ saga_id: string; name: string }>(this.statements.expiredLeases, [
      limit,
    ])
    return rows.map((row) => ({ sagaId: row.saga_id, name: row.name }))
  }

  async forgetFinished(retainMs: number, limit: number): Promise<number> {
    const { rowCount } = await this.query(this.statements.forgetFinished, [retainMs, limit])
    return rowCount ?? 0
  }

  async scheduleInvalidationRetry(job: InvalidationRetryJob): Promise<void> {
    await this.query(this.statements.scheduleRetry, [job.id, JSON.stringify(job)])
  }

  async claimInvalidationRetries(limit: number, hideForMs: number): Promise<InvalidationRetryJob[]> {
    const { rows } = await this.query<{ job: InvalidationRetryJob }>(this.statements.claimRetries, [
      limit,
      hideForMs,
    ])
    return rows.map((row) => row.job)
  }

  async ackInvalidationRetry(job: InvalidationRetryJob): Promise<void> {
    await this.query(this.statements.ackRetry, [job.id])
  }

  private async checkInstalled(): Promise<void> {
    const { installed } = await this.one<{ installed: boolean }>(this.statements.installed, [])
    if (installed) return
    throw new PostgresError(
      'PG_ERR_NOT_INSTALLED',
      `the saga store is not installed in schema ${this.schema} of ${this.database.name}: apply sagaStoreSql() ` +
        'with your migration tool, or call installSagaStore()',
      { details: { database: this.database.name, schema: this.schema } },
    )
  }

  /** The single row of a statement that returns one. */
  private async one<Row extends pg.QueryResultRow>(text: string, values: unknown[]): Promise<Row> {
    return (await this.query<Row>(text, values)).rows[0]!
  }

  private async query<Row extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    values: unknown[],
  ): Promise<pg.QueryResult<Row>> {
    try {
      return await this.database.query<Row>(text, values)
    } catch (error) {
      throw storeFailure(error, this.database.name, this.schema)
    }
  }
}
