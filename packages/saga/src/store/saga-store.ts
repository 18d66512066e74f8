import type { Redis } from 'ioredis'
import { type RecordedError, SagaError } from '../errors.js'
import { scripts } from './lua-script.js'
import { type PhaseStatus, parseSagaRecord, type SagaRecord, type SagaState } from './saga-record.js'

/** One entry of a saga's log, as written by the Lua scripts. */
export interface SagaLogEntry {
  at: number
  /** e.g. `saga.started`, `step.completed`, `compensation.failed`, `saga.parked`, `operator.retry`. */
  event: string
  step?: string
  state?: SagaState
  error?: RecordedError
  actor?: string
  note?: string
}

type AcquireOutcome =
  | { outcome: 'created' | 'acquired' | 'busy' | 'finished'; state: SagaState }
  | { outcome: 'missing' }
  | { outcome: 'conflict'; recordedName: string }

/** The Redis side of sagas: every write is one Lua script, every read a plain command. */
export class SagaStore {
  constructor(
    readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private recordKey(sagaId: string): string {
    return `${this.prefix}saga:${sagaId}`
  }
  private logKey(sagaId: string): string {
    return `${this.prefix}saga:${sagaId}:log`
  }
  private get activeKey(): string {
    return `${this.prefix}active`
  }
  private get indexPrefix(): string {
    return `${this.prefix}state:`
  }
  /** Keys of the default invalidation retry scheduler. */
  get retryKeys(): { due: string; jobs: string } {
    return { due: `${this.prefix}invalidation-retries:due`, jobs: `${this.prefix}invalidation-retries:jobs` }
  }

  /** Creates the saga if `create` is given and it is missing, then tries to take its lease for `token`. */
  async acquire(
    sagaId: string,
    token: string,
    leaseMs: number,
    create?: { name: string; input: unknown },
  ): Promise<AcquireOutcome> {
    const [outcome, detail] = (await scripts.acquireSaga.run(
      this.redis,
      [this.recordKey(sagaId), this.logKey(sagaId), this.activeKey, `${this.indexPrefix}running`],
      [sagaId, token, leaseMs, create?.name ?? '', JSON.stringify(create?.input ?? null)],
    )) as [string, string]
    if (outcome === 'missing') return { outcome }
    if (outcome === 'conflict') return { outcome, recordedName: detail }
    return { outcome: outcome as 'created' | 'acquired' | 'busy' | 'finished', state: detail as SagaState }
  }

  /** False when `token` no longer holds the lease. */
  async renewLease(sagaId: string, token: string, leaseMs: number): Promise<boolean> {
    const renewed = await scripts.renewLease.run(
      this.redis,
      [this.recordKey(sagaId), this.activeKey],
      [sagaId, token, leaseMs],
    )
    return renewed === 1
  }

  /** Records a step or compensation transition; returns its failure count. Throws SAGA_ERR_LEASE_LOST. */
  async recordPhase(
    sagaId: string,
    token: string,
    phase: 'step' | 'compensation',
    step: string,
    status: Exclude<PhaseStatus, 'skipped'>,
    details: { resultJson?: string; error?: RecordedError; countsAsFailure?: boolean } = {},
  ): Promise<number> {
    return (await this.fenced(sagaId, () =>
      scripts.recordStep.run(
        this.redis,
        [this.recordKey(sagaId), this.logKey(sagaId)],
        [
          token,
          phase,
          step,
          status,
          details.resultJson ?? '',
          details.error ? JSON.stringify(details.error) : '',
          details.countsAsFailure ? '1' : '0',
        ],
      ),
    )) as number
  }

  /** Moves the saga to `state`; resting states release the lease. Throws SAGA_ERR_LEASE_LOST. */
  async setState(
    sagaId: string,
    token: string,
    state: SagaState,
    details: { error?: RecordedError; parkedStep?: string } = {},
  ): Promise<void> {
    await this.fenced(sagaId, () =>
      scripts.setSagaState.run(
        this.redis,
        [this.recordKey(sagaId), this.logKey(sagaId), this.activeKey],
        [
          this.indexPrefix,
          sagaId,
          token,
          state,
          details.error ? JSON.stringify(details.error) : '',
          details.parkedStep ?? '',
        ],
      ),
    )
  }

  /** Applies an operator action; returns the new state. */
  async operatorAction(
    sagaId: string,
    action: 'retry' | 'skip' | 'resolve',
    by: { actor: string; step?: string; note?: string },
  ): Promise<SagaState> {
    try {
      return (await scripts.operatorAction.run(
        this.redis,
        [this.recordKey(sagaId), this.logKey(sagaId), this.activeKey],
        [this.indexPrefix, sagaId, action, by.step ?? '', by.actor, by.note ?? ''],
      )) as SagaState
    } catch (error) {
      const message = error instanceof Error ? error.message : ''
      if (message.includes('NOT_FOUND')) throw new SagaError('SAGA_ERR_NOT_FOUND', `no saga "${sagaId}"`)
      const state = /INVALID_STATE:(\S*)/.exec(message)?.[1]
      if (state !== undefined) {
        throw new SagaError(
          'SAGA_ERR_INVALID_STATE',
          `saga "${sagaId}" is ${state}; only parked or compensation_failed sagas take operator actions`,
        )
      }
      const parked = /WRONG_STEP:(\S*)/.exec(message)?.[1]
      if (parked !== undefined) {
        throw new SagaError(
          'SAGA_ERR_INVALID_STATE',
          `saga "${sagaId}" waits on step "${parked}", not "${by.step}"`,
        )
      }
      throw error
    }
  }

  async load(sagaId: string): Promise<SagaRecord | undefined> {
    return parseSagaRecord(sagaId, await this.redis.hgetall(this.recordKey(sagaId)))
  }

  async readLog(sagaId: string): Promise<SagaLogEntry[]> {
    const entries = await this.redis.lrange(this.logKey(sagaId), 0, -1)
    return entries.map((entry) => JSON.parse(entry) as SagaLogEntry)
  }

  /** Ids of the sagas in `state` (a set read with SSCAN, so a large index never blocks Redis). */
  async listByState(state: SagaState): Promise<string[]> {
    const ids: string[] = []
    let cursor = '0'
    do {
      const [next, batch] = await this.redis.sscan(`${this.indexPrefix}${state}`, cursor, 'COUNT', 500)
      ids.push(...batch)
      cursor = next
    } while (cursor !== '0')
    return ids.sort()
  }

  /**
   * Reads one batch of the index of a final state from `cursor` (SSCAN) and deletes the sagas in it older than
   * `retainMs`. Returns the cursor of the next batch ('0' when the scan went round) and how many were deleted.
   */
  async forgetFinished(
    state: 'completed' | 'compensated' | 'resolved',
    cursor: string,
    retainMs: number,
  ): Promise<{ cursor: string; forgotten: number }> {
    const [next, ids] = await this.redis.sscan(`${this.indexPrefix}${state}`, cursor, 'COUNT', 200)
    if (ids.length === 0) return { cursor: next, forgotten: 0 }
    const forgotten = (await scripts.forgetFinishedSagas.run(
      this.redis,
      [],
      [this.prefix, state, retainMs, ...ids],
    )) as number
    return { cursor: next, forgotten }
  }

  /** Ids of running or compensating sagas whose lease has expired (or was handed back by an operator). */
  async expiredLeases(limit: number): Promise<string[]> {
    const [seconds, micros] = await this.redis.time()
    const now = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000)
    return this.redis.zrangebyscore(this.activeKey, '-inf', now, 'LIMIT', 0, limit)
  }

  /** Saga names for ids, to skip the sagas this runner has no definition for. */
  async names(sagaIds: readonly string[]): Promise<Array<string | null>> {
    if (sagaIds.length === 0) return []
    const pipeline = this.redis.pipeline()
    for (const id of sagaIds) pipeline.hget(this.recordKey(id), 'name')
    const replies = (await pipeline.exec()) ?? []
    return replies.map(([, name]) => (typeof name === 'string' ? name : null))
  }

  private async fenced(sagaId: string, write: () => Promise<unknown>): Promise<unknown> {
    try {
      return await write()
    } catch (error) {
      if (error instanceof Error && error.message.includes('LEASE_LOST')) {
        throw new SagaError('SAGA_ERR_LEASE_LOST', `another runner took over saga "${sagaId}"`, {
          cause: error,
        })
      }
      throw error
    }
  }
}
