import { describe, expect, it } from 'vitest'
import { RedisInvalidationRetryScheduler } from '../invalidation/retry-scheduler.js'
import { SagaStore } from '../store/saga-store.js'
import { eventually, freshPrefix, useRedis } from '../test-support/redis.js'

const server = useRedis()
const newStore = () => {
  const prefix = freshPrefix()
  return { prefix, store: new SagaStore(server.redis, prefix) }
}
const create = { name: 'book', input: { slot: 1 } }

describe('acquire-saga.lua', () => {
  it('creates a saga once, in state running, indexed and holding the lease of its creator', async () => {
    const { prefix, store } = newStore()
    expect(await store.acquire('s1', 'a', 10_000, create)).toEqual({ outcome: 'created', state: 'running' })
    expect(await store.acquire('s1', 'b', 10_000, create)).toEqual({ outcome: 'busy', state: 'running' })
    expect(await server.redis.smembers(`${prefix}state:running`)).toEqual(['s1'])
    expect(await server.redis.hget(`${prefix}saga:s1`, 'owner')).toBe('a')
    expect(await server.redis.zscore(`${prefix}active`, 's1')).not.toBeNull()
    expect((await store.load('s1'))?.input).toEqual({ slot: 1 })
  })

  it('lets another token take over once the lease has expired, and logs the takeover', async () => {
    const { store } = newStore()
    await store.acquire('s1', 'a', 50, create)
    const taken = await eventually(async () => {
      const result = await store.acquire('s1', 'b', 10_000)
      return result.outcome === 'acquired' ? result : undefined
    })
    expect(taken).toEqual({ outcome: 'acquired', state: 'running' })
    expect((await store.readLog('s1')).map((entry) => entry.event)).toEqual(['saga.started', 'saga.resumed'])
  })

  it('reports a missing saga, an id used by another saga name, and a finished saga', async () => {
    const { store } = newStore()
    expect(await store.acquire('nope', 'a', 1000)).toEqual({ outcome: 'missing' })
    await store.acquire('s1', 'a', 1000, create)
    expect(await store.acquire('s1', 'b', 1000, { name: 'other', input: {} })).toEqual({
      outcome: 'conflict',
      recordedName: 'book',
    })
    await store.setState('s1', 'a', 'completed')
    expect(await store.acquire('s1', 'b', 1000, create)).toEqual({ outcome: 'finished', state: 'completed' })
  })
})

describe('renew-lease.lua', () => {
  it('extends the lease of its holder only', async () => {
    const { prefix, store } = newStore()
    await store.acquire('s1', 'a', 1000, create)
    const before = Number(await server.redis.hget(`${prefix}saga:s1`, 'leaseUntil'))
    expect(await store.renewLease('s1', 'a', 60_000)).toBe(true)
    expect(Number(await server.redis.hget(`${prefix}saga:s1`, 'leaseUntil'))).toBeGreaterThan(before + 50_000)
    expect(Number(await server.redis.zscore(`${prefix}active`, 's1'))).toBeGreaterThan(before + 50_000)
    expect(await store.renewLease('s1', 'b', 60_000)).toBe(false)
  })
})

describe('record-step.lua', () => {
  it('refuses a token that does not hold the lease', async () => {
    const { store } = newStore()
    await store.acquire('s1', 'a', 1000, create)
    await expect(store.recordPhase('s1', 'b', 'step', 'hold', 'started')).rejects.toMatchObject({
      code: 'SAGA_ERR_LEASE_LOST',
    })
  })

  it('keeps status, result and failure count per step and phase, and logs every transition', async () => {
    const { store } = newStore()
    await store.acquire('s1', 'a', 1000, create)
    await store.recordPhase('s1', 'a', 'step', 'hold', 'started')
    const error = { name: 'Error', message: 'down' }
    expect(
      await store.recordPhase('s1', 'a', 'step', 'hold', 'failed', { error, countsAsFailure: true }),
    ).toBe(1)
    expect(await store.recordPhase('s1', 'a', 'step', 'hold', 'rejected', { error })).toBe(1)
    await store.recordPhase('s1', 'a', 'step', 'hold', 'completed', { resultJson: '{"holdId":7}' })
    await store.recordPhase('s1', 'a', 'compensation', 'hold', 'deferred', { error })
    const record = await store.load('s1')
    expect(record?.steps.get('hold')).toEqual({ status: 'completed', failures: 1, result: { holdId: 7 } })
    expect(record?.compensations.get('hold')).toEqual({ status: 'deferred', failures: 0 })
    expect(record?.deferredInvalidations).toBe(1)
    const log = await store.readLog('s1')
    expect(log.slice(1).map((entry) => entry.event)).toEqual([
      'step.started',
      'step.failed',
      'step.rejected',
      'step.completed',
      'compensation.deferred',
    ])
    expect(log[2]).toMatchObject({ step: 'hold', error })
  })
})

describe('set-saga-state.lua', () => {
  it('moves the saga between index sets and releases the lease in a resting state', async () => {
    const { prefix, store } = newStore()
    await store.acquire('s1', 'a', 1000, create)
    await store.setState('s1', 'a', 'compensating', { error: { name: 'DomainRejection', message: 'taken' } })
    expect(await server.redis.smembers(`${prefix}state:compensating`)).toEqual(['s1'])
    expect(await server.redis.zscore(`${prefix}active`, 's1')).not.toBeNull()
    await store.setState('s1', 'a', 'compensation_failed', { parkedStep: 'hold' })
    expect(await server.redis.smembers(`${prefix}state:running`)).toEqual([])
    expect(await store.listByState('compensation_failed')).toEqual(['s1'])
    expect(await server.redis.zscore(`${prefix}active`, 's1')).toBeNull()
    const record = await store.load('s1')
    expect(record).toMatchObject({
      state: 'compensation_failed',
      parkedStep: 'hold',
      error: { message: 'taken' },
    })
    expect(await server.redis.hget(`${prefix}saga:s1`, 'owner')).toBeNull()
  })

  it('refuses a token that does not hold the lease', async () => {
    const { store } = newStore()
    await store.acquire('s1', 'a', 1000, create)
    await expect(store.setState('s1', 'b', 'completed')).rejects.toMatchObject({
      code: 'SAGA_ERR_LEASE_LOST',
    })
  })
})

describe('operator-action.lua', () => {
  const parkOn = async (store: SagaStore, state: 'parked' | 'compensation_failed') => {
    await store.acquire('s1', 'a', 60_000, create)
    const phase = state === 'parked' ? 'step' : 'compensation'
    await store.recordPhase('s1', 'a', phase, 'hold', 'failed', { countsAsFailure: true })
    await store.setState('s1', 'a', state, { parkedStep: 'hold' })
  }

  it('acts only on sagas waiting for an operator', async () => {
    const { store } = newStore()
    await expect(store.operatorAction('nope', 'retry', { actor: 'ann' })).rejects.toMatchObject({
      code: 'SAGA_ERR_NOT_FOUND',
    })
    await store.acquire('s1', 'a', 60_000, create)
    await expect(store.operatorAction('s1', 'retry', { actor: 'ann' })).rejects.toMatchObject({
      code: 'SAGA_ERR_INVALID_STATE',
    })
  })

  it('retry gives the parked step a fresh budget and makes the saga claimable at once', async () => {
    const { prefix, store } = newStore()
    await parkOn(store, 'compensation_failed')
    expect(await store.operatorAction('s1', 'retry', { actor: 'ann', note: 'gateway back' })).toBe(
      'compensating',
    )
    expect((await store.load('s1'))?.compensations.get('hold')?.failures).toBe(0)
    expect(await server.redis.zscore(`${prefix}active`, 's1')).toBe('0')
    expect(await store.listByState('compensating')).toEqual(['s1'])
    expect((await store.readLog('s1')).at(-1)).toMatchObject({
      event: 'operator.retry',
      actor: 'ann',
      note: 'gateway back',
      step: 'hold',
      state: 'compensating',
    })
  })

  it('skip must name the parked step, and marks it skipped', async () => {
    const { store } = newStore()
    await parkOn(store, 'parked')
    await expect(store.operatorAction('s1', 'skip', { actor: 'ann', step: 'other' })).rejects.toMatchObject({
      code: 'SAGA_ERR_INVALID_STATE',
    })
    expect(await store.operatorAction('s1', 'skip', { actor: 'ann', step: 'hold' })).toBe('running')
    expect((await store.load('s1'))?.steps.get('hold')).toEqual({
      status: 'skipped',
      failures: 0,
      result: null,
    })
  })

  it('resolve closes the saga for good', async () => {
    const { prefix, store } = newStore()
    await parkOn(store, 'parked')
    expect(await store.operatorAction('s1', 'resolve', { actor: 'ann' })).toBe('resolved')
    expect(await store.listByState('resolved')).toEqual(['s1'])
    expect(await server.redis.zscore(`${prefix}active`, 's1')).toBeNull()
  })
})

describe('forget-finished-sagas.lua', () => {
  it('deletes sagas that rested in a final state longer than the retention, with their log and index entry', async () => {
    const { prefix, store } = newStore()
    for (const id of ['old', 'young', 'old-parked']) await store.acquire(id, 'a', 60_000, create)
    await store.setState('old', 'a', 'completed')
    await store.setState('young', 'a', 'completed')
    await store.setState('old-parked', 'a', 'parked', { parkedStep: 'hold' })
    const hourAgo = Date.now() - 3_600_000
    await server.redis.hset(`${prefix}saga:old`, 'updatedAt', hourAgo)
    await server.redis.hset(`${prefix}saga:old-parked`, 'updatedAt', hourAgo)
    // An index entry whose record is gone (deleted by hand, say) is dropped as well.
    await server.redis.sadd(`${prefix}state:completed`, 'ghost')

    let cursor = '0'
    let forgotten = 0
    do {
      const batch = await store.forgetFinished('completed', cursor, 60_000)
      cursor = batch.cursor
      forgotten += batch.forgotten
    } while (cursor !== '0')

    expect(forgotten).toBe(1)
    expect(await server.redis.exists(`${prefix}saga:old`, `${prefix}saga:old:log`)).toBe(0)
    expect(await store.listByState('completed')).toEqual(['young'])
    expect((await store.load('young'))?.state).toBe('completed')
    expect((await store.load('old-parked'))?.state).toBe('parked')
    expect((await store.forgetFinished('compensated', '0', 60_000)).forgotten).toBe(0)
  })
})

describe('invalidation retry scripts', () => {
  const job = (id: string) => ({
    id,
    sagaId: 's1',
    step: 'inv',
    target: { tags: ['t'] },
    error: { name: 'E', message: 'x' },
  })

  it('keep one job per id, hide a claimed job for the retry delay, and forget it once the cache confirms', async () => {
    const { store } = newStore()
    const scheduler = new RedisInvalidationRetryScheduler(server.redis, store.retryKeys, 60_000)
    await scheduler.schedule(job('j1'))
    await scheduler.schedule(job('j1'))
    expect(await server.redis.hlen(store.retryKeys.jobs)).toBe(1)

    const invalidated: unknown[] = []
    let ok = false
    const cache = {
      invalidate: async (target: unknown) => {
        invalidated.push(target)
        return { ok }
      },
    }
    expect((await scheduler.retryDue(cache)).failed).toHaveLength(1)
    // Claimed and failed: hidden until the retry delay has passed.
    expect(await scheduler.retryDue(cache)).toEqual({ done: 0, failed: [] })
    await server.redis.zadd(store.retryKeys.due, 0, 'j1')
    ok = true
    expect(await scheduler.retryDue(cache)).toEqual({ done: 1, failed: [] })
    expect(invalidated).toEqual([{ tags: ['t'] }, { tags: ['t'] }])
    expect(await server.redis.hlen(store.retryKeys.jobs)).toBe(0)
    expect(await server.redis.zcard(store.retryKeys.due)).toBe(0)
  })
})
