import {
  closeRedis,
  describeRedis,
  openRedis,
  type RedisConnection,
  RedisUnreachableError,
  waitForRedis,
} from '@cachesaga/common'
import { type Cluster, type Redis, ReplyError } from 'ioredis'
import { SagaError } from '../../errors.js'
import type { InvalidationRetryJob } from '../../invalidation/retry-scheduler.js'
import { createdRecord, type SagaChange } from '../saga-change.js'
import { FINAL_STATES, type SagaLogEntry, type SagaRecord, type SagaState } from '../saga-record.js'
import type { AcquireOutcome, Lease, NewSaga, OperatorDecision, SagaStore } from '../saga-store.js'
import { changesState, encodeWrite } from './change-encoding.js'
import { checkRedisDurability } from './durability.js'
import { ALL_BUCKETS, bucketOf, KeyLayout } from './key-layout.js'
import { LuaScripts } from './lua-scripts.js'
import { parseRecordHash } from './record-hash.js'
import { WriteCoalescing } from './write-coalescing.js'

/** The store's settings, resolved (see `redisStoreOptionsSchema` for what callers pass). */
export interface ResolvedRedisStoreOptions {
  /** Where the sagas live; the store opens its own connection and never closes a client it was handed. */
  redis: RedisConnection
  /** Prefix of every key; no braces (the store adds the hash tags). */
  keyPrefix: string
  /** How long a call waits for Redis to be ready before CS_ERR_REDIS_UNREACHABLE, ms. */
  connectTimeout: number
  /** How long one command may take before it fails (CS_ERR_REDIS_UNREACHABLE), ms. */
  commandTimeout: number
}

/** Buckets whose indexes a sweep reads at once: enough to overlap round trips, few enough to stay gentle. */
const SWEEP_CONCURRENCY = 16

/**
 * Sagas in Redis (a single node, a primary with replicas, or a Cluster: see `KeyLayout`). Every write is one Lua
 * script, every read a plain command; each call first waits (bounded) for the connection to be ready, so a short
 * outage or failover is waited out and a long one fails with a coded error naming Redis.
 */
export class RedisSagaStore implements SagaStore {
  readonly description: string
  /** None: a step's business write cannot share a Redis transaction with its record (see `StepTransactions`). */
  readonly stepTransactions = undefined
  private readonly client: Redis | Cluster
  private readonly scripts: LuaScripts
  private readonly keys: KeyLayout
  private readonly writes: WriteCoalescing
  private waiting: Promise<void> | undefined

  constructor(private readonly options: ResolvedRedisStoreOptions) {
    this.description = describeRedis(options.redis)
    this.client = openRedis(options.redis, {
      commandTimeoutMs: options.commandTimeout,
      maxRetriesPerRequest: 1,
      // Not auto-pipelined: measured with 50 sagas in flight, batching the writes of a tick cost more CPU per saga
      // than the socket writes it saved, and every write waited for the batch before it (bench/, saga suite).
      connectionName: 'cachesaga:saga',
    })
    // Connection errors are reported by the calls that meet them (see `ready`); without a listener ioredis logs each.
    this.client.on('error', () => {})
    this.scripts = new LuaScripts(this.client)
    this.writes = new WriteCoalescing(this.client)
    this.keys = new KeyLayout(options.keyPrefix)
  }

  /** Resolves at once on a ready connection; concurrent callers share one bounded wait otherwise. */
  ready(): Promise<void> {
    if (this.client.status === 'ready') return Promise.resolve()
    this.waiting ??= waitForRedis(this.client, {
      timeoutMs: this.options.connectTimeout,
      target: this.description,
    }).finally(() => {
      this.waiting = undefined
    })
    return this.waiting
  }

  /** Reads appendonly, appendfsync and maxmemory-policy of every node that holds sagas (see `durability.ts`). */
  async checkDurability(): Promise<void> {
    await this.ready()
    try {
      await checkRedisDurability(this.client, this.description)
    } catch (error) {
      throw error instanceof SagaError ? error : this.failure(error)
    }
  }

  close(): Promise<void> {
    return closeRedis(this.client, this.options.commandTimeout)
  }

  async acquire(sagaId: string, lease: Lease, create?: NewSaga): Promise<AcquireOutcome> {
    const [outcome, detail] = (await this.script('sagaAcquire', this.sagaKeys(sagaId, true), [
      sagaId,
      lease.token,
      lease.ms,
      create?.name ?? '',
      create?.inputJson ?? '',
      create?.traceCarrier === undefined ? '' : JSON.stringify(create.traceCarrier),
      ...(create?.changes?.length ? encodeWrite(create.changes, Date.now()) : []),
    ])) as [string, string[] | string | undefined]
    switch (outcome) {
      case 'created':
        return { outcome, record: createdRecord(sagaId, create!) }
      case 'acquired':
      case 'finished':
        return { outcome, record: parseRecordHash(sagaId, detail as string[])! }
      case 'busy':
        return { outcome, state: detail as SagaState }
      case 'conflict':
        return { outcome, recordedName: detail as string }
      default:
        return { outcome: 'missing' }
    }
  }

  async renewLease(sagaId: string, lease: Lease): Promise<boolean> {
    const renewed = await this.script(
      'sagaRenewLease',
      [this.keys.record(sagaId), this.keys.active(bucketOf(sagaId))],
      [sagaId, lease.token, lease.ms],
    )
    return renewed === 1
  }

  async advance(sagaId: string, token: string, changes: readonly SagaChange[]): Promise<void> {
    const withIndexes = changesState(changes)
    const script = withIndexes ? 'sagaAdvanceState' : 'sagaAdvance'
    const applied = await this.script(script, this.sagaKeys(sagaId, withIndexes), [
      sagaId,
      token,
      ...encodeWrite(changes, Date.now()),
    ])
    if (applied !== 1) {
      throw new SagaError('SAGA_ERR_LEASE_LOST', `another runner took over saga "${sagaId}"`, {
        details: { sagaId },
      })
    }
  }

  async decide(
    sagaId: string,
    decision: OperatorDecision,
    by: { actor: string; step?: string | undefined; note?: string | undefined },
  ): Promise<SagaState> {
    // The log entry's own fields, spliced by the script after the ones it knows (event, step, state).
    const said = JSON.stringify({ actor: by.actor, note: by.note }).slice(1, -1)
    const [outcome, detail] = (await this.script('sagaOperatorAction', this.sagaKeys(sagaId, true), [
      sagaId,
      decision,
      by.step ?? '',
      said,
    ])) as [string, string | undefined]
    if (outcome === 'ok') return detail as SagaState
    if (outcome === 'not_found') {
      throw new SagaError('SAGA_ERR_NOT_FOUND', `no saga "${sagaId}"`, { details: { sagaId } })
    }
    if (outcome === 'wrong_step') {
      throw new SagaError(
        'SAGA_ERR_INVALID_STATE',
        `saga "${sagaId}" waits on step "${detail}", not "${by.step}"`,
        {
          details: { sagaId, parkedStep: detail },
        },
      )
    }
    throw new SagaError(
      'SAGA_ERR_INVALID_STATE',
      `saga "${sagaId}" is ${detail}; only parked or compensation_failed sagas take operator actions`,
      { details: { sagaId, state: detail } },
    )
  }

  async load(sagaId: string): Promise<SagaRecord | undefined> {
    return parseRecordHash(sagaId, await this.command(() => this.client.hgetall(this.keys.record(sagaId))))
  }

  async readLog(sagaId: string): Promise<SagaLogEntry[]> {
    const entries = await this.command(() => this.client.lrange(this.keys.log(sagaId), 0, -1))
    return entries.map((entry) => JSON.parse(entry) as SagaLogEntry)
  }

  /** Every bucket's index set of `state`, read with SSCAN so a large index never blocks Redis. */
  async listByState(state: SagaState): Promise<string[]> {
    const perBucket = await this.eachBucket(async (bucket) => {
      const key = this.keys.stateIndex(bucket, state)
      const ids: string[] = []
      let cursor = '0'
      do {
        const [next, batch] = await this.command(() => this.client.sscan(key, cursor, 'COUNT', 500))
        ids.push(...batch)
        cursor = next
      } while (cursor !== '0')
      return ids
    })
    return perBucket.flat().sort()
  }

  async expiredLeases(limit: number): Promise<Array<{ sagaId: string; name: string }>> {
    const perBucket = await this.eachBucket(
      (bucket) => this.script('sagaDueMembers', [this.keys.active(bucket)], [0, limit]) as Promise<string[]>,
    )
    const ids = perBucket.flat().slice(0, limit)
    const names = await Promise.all(
      ids.map((sagaId) => this.command(() => this.client.hget(this.keys.record(sagaId), 'name'))),
    )
    return ids.flatMap((sagaId, index) => {
      const name = names[index]
      return name ? [{ sagaId, name }] : []
    })
  }

  async forgetFinished(retainMs: number, limit: number): Promise<number> {
    let budget = limit
    let forgotten = 0
    for (const bucket of ALL_BUCKETS) {
      if (budget <= 0) break
      const finished = this.keys.finished(bucket)
      const ids = (await this.script('sagaDueMembers', [finished], [retainMs, budget])) as string[]
      if (ids.length === 0) continue
      budget -= ids.length
      const indexes = [finished, ...FINAL_STATES.map((state) => this.keys.stateIndex(bucket, state))]
      const deleted = await Promise.all(
        ids.map((sagaId) =>
          this.script(
            'sagaForget',
            [...indexes, this.keys.record(sagaId), this.keys.log(sagaId)],
            [retainMs, sagaId],
          ),
        ),
      )
      forgotten += deleted.filter((one) => one === 1).length
    }
    return forgotten
  }

  async scheduleInvalidationRetry(job: InvalidationRetryJob): Promise<void> {
    const { due, jobs } = this.keys.retries(bucketOf(job.sagaId))
    await this.script('sagaScheduleRetry', [due, jobs], [job.id, JSON.stringify(job), 0])
  }

  async claimInvalidationRetries(limit: number, hideForMs: number): Promise<InvalidationRetryJob[]> {
    const perBucket = await this.eachBucket(async (bucket) => {
      const { due, jobs } = this.keys.retries(bucket)
      const claimed = (await this.script('sagaClaimRetries', [due, jobs], [limit, hideForMs])) as string[]
      // The job JSON was written by `scheduleInvalidationRetry`, not by an outside party.
      return claimed
        .filter((_, index) => index % 2 === 1)
        .map((job) => JSON.parse(job) as InvalidationRetryJob)
    })
    return perBucket.flat().slice(0, limit)
  }

  async ackInvalidationRetry(job: InvalidationRetryJob): Promise<void> {
    const { due, jobs } = this.keys.retries(bucketOf(job.sagaId))
    await this.script('sagaAckRetry', [due, jobs], [job.id])
  }

  /** The record and log keys of a saga, plus its bucket's indexes when the write may change its state. */
  private sagaKeys(sagaId: string, withIndexes: boolean): string[] {
    const record = this.keys.record(sagaId)
    const own = [record, `${record}:log`]
    return withIndexes ? [...own, ...this.keys.indexes(bucketOf(sagaId))] : own
  }

  private async eachBucket<T>(read: (bucket: number) => Promise<T>): Promise<T[]> {
    const results: T[] = []
    for (let start = 0; start < ALL_BUCKETS.length; start += SWEEP_CONCURRENCY) {
      results.push(...(await Promise.all(ALL_BUCKETS.slice(start, start + SWEEP_CONCURRENCY).map(read))))
    }
    return results
  }

  private script(...args: Parameters<LuaScripts['run']>): Promise<unknown> {
    return this.command(() => this.scripts.run(...args))
  }

  /** Waits (bounded) for the connection, runs the command, and gives a failure a code and the store's name. */
  private command<T>(work: () => Promise<T>): Promise<T> {
    const run = () => {
      this.writes.beforeCommand()
      return work().catch((error: unknown) => Promise.reject(this.failure(error)))
    }
    // Ready is the usual case: no wait, no extra promise.
    return this.client.status === 'ready' ? run() : this.ready().then(run)
  }

  private failure(error: unknown): Error {
    if (error instanceof ReplyError) {
      return new SagaError(
        'SAGA_ERR_STORE_FAILED',
        `Redis at ${this.description} refused a command: ${(error as Error).message}`,
        { cause: error, details: { target: this.description } },
      )
    }
    return new RedisUnreachableError(this.description, this.options.commandTimeout, error)
  }
}
