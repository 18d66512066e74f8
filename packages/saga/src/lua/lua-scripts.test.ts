import { describe, expect, it } from 'vitest'
import type { RecordedError } from '../errors.js'
import { StoreRetryScheduler } from '../invalidation/retry-scheduler.js'
import { bucketOf, KeyLayout } from '../store/redis/key-layout.js'
import type { RedisSagaStore } from '../store/redis/redis-saga-store.js'
import type { SagaChange } from '../store/saga-change.js'
import { eventually, freshPrefix, onEachTopology } from '../test-support/redis.js'
import { testStore } from '../test-support/runner.js'

const create = { name: 'book', inputJson: JSON.stringify({ slot: 1 }) }
const lease = (token: string, ms = 10_000) => ({ token, ms })
const started = (step: string): SagaChange => ({
  kind: 'phase',
  phase: 'step',
  step,
  status: 'started',
  attempt: 1,
})
const error: RecordedError = { code: 'SAGA_ERR_STEP_FAILED', name: 'Error', message: 'down', step: 'hold' }

onEachTopology((redis) => {
  const newStore = () => {
    const prefix = freshPrefix()
    return { keys: new KeyLayout(prefix), store: testStore(redis, prefix) }
  }

  describe('acquire-saga.lua', () => {
    it('creates a saga once, in state running, indexed in its bucket and leased to its creator', async () => {
      const { keys, store } = newStore()
      const created = await store.acquire('s1', lease('a'), { ...create, changes: [started('hold')] })
      expect(created).toMatchObject({ outcome: 'created', record: { state: 'running', input: { slot: 1 } } })
      expect(await store.acquire('s1', lease('b'), create)).toEqual({ outcome: 'busy', state: 'running' })
      const bucket = bucketOf('s1')
      expect(await redis.client.smembers(keys.stateIndex(bucket, 'running'))).toEqual(['s1'])
      expect(await redis.client.hget(keys.record('s1'), 'owner')).toBe('a')
      expect(await redis.client.zscore(keys.active(bucket), 's1')).not.toBeNull()
      // The first step's start was written with the saga: one call before the first side effect.
      expect((await store.load('s1'))?.steps.get('hold')).toEqual({ status: 'started', failures: 0 })
      expect((await store.readLog('s1')).map((entry) => entry.event)).toEqual([
        'saga.started',
        'step.started',
      ])
    })

    it('lets another token take over once the lease has expired, returns the record, and logs the takeover', async () => {
      const { store } = newStore()
      await store.acquire('s1', lease('a', 50), create)
      const taken = await eventually(async () => {
        const result = await store.acquire('s1', lease('b'))
        return result.outcome === 'acquired' ? result : undefined
      })
      expect(taken).toMatchObject({
        outcome: 'acquired',
        record: { sagaId: 's1', name: 'book', state: 'running' },
      })
      expect((await store.readLog('s1')).map((entry) => entry.event)).toEqual([
        'saga.started',
        'saga.resumed',
      ])
    })

    it('reports a missing saga, an id used by another saga name, and a finished saga with its record', async () => {
      const { store } = newStore()
      expect(await store.acquire('nope', lease('a'))).toEqual({ outcome: 'missing' })
      await store.acquire('s1', lease('a'), create)
      expect(await store.acquire('s1', lease('b'), { name: 'other', inputJson: '{}' })).toEqual({
        outcome: 'conflict',
        recordedName: 'book',
      })
      await store.advance('s1', 'a', [{ kind: 'state', state: 'completed' }])
      expect(await store.acquire('s1', lease('b'), create)).toMatchObject({
        outcome: 'finished',
        record: { state: 'completed' },
      })
    })
  })

  describe('renew-lease.lua', () => {
    it('extends the lease of its holder only', async () => {
      const { keys, store } = newStore()
      await store.acquire('s1', lease('a', 1000), create)
      const before = Number(await redis.client.hget(keys.record('s1'), 'leaseUntil'))
      expect(await store.renewLease('s1', lease('a', 60_000))).toBe(true)
      expect(Number(await redis.client.hget(keys.record('s1'), 'leaseUntil'))).toBeGreaterThan(
        before + 50_000,
      )
      expect(Number(await redis.client.zscore(keys.active(bucketOf('s1')), 's1'))).toBeGreaterThan(
        before + 50_000,
      )
      expect(await store.renewLease('s1', lease('b', 60_000))).toBe(false)
    })
  })

  describe('advance-saga.lua', () => {
    it('refuses a token that does not hold the lease, writing nothing', async () => {
      const { store } = newStore()
      await store.acquire('s1', lease('a'), create)
      await expect(store.advance('s1', 'b', [started('hold')])).rejects.toMatchObject({
        code: 'SAGA_ERR_LEASE_LOST',
      })
      expect((await store.load('s1'))?.steps.size).toBe(0)
    })

    it('keeps status, result, error and failure count per step and phase, and logs every change in order', async () => {
      const { store } = newStore()
      await store.acquire('s1', lease('a'), create)
      await store.advance('s1', 'a', [started('hold')])
      await store.advance('s1', 'a', [
        { kind: 'phase', phase: 'step', step: 'hold', status: 'failed', error },
      ])
      await store.advance('s1', 'a', [
        { kind: 'phase', phase: 'step', step: 'hold', status: 'rejected', error },
        { kind: 'phase', phase: 'step', step: 'hold', status: 'completed', resultJson: '{"holdId":7}' },
        started('charge'),
      ])
      await store.advance('s1', 'a', [
        { kind: 'phase', phase: 'compensation', step: 'hold', status: 'deferred', error },
      ])
      const record = await store.load('s1')
      expect(record?.steps.get('hold')).toEqual({
        status: 'completed',
        failures: 1,
        result: { holdId: 7 },
        error,
      })
      expect(record?.steps.get('charge')).toEqual({ status: 'started', failures: 0 })
      expect(record?.compensations.get('hold')).toEqual({ status: 'deferred', failures: 0, error })
      expect(record?.deferredInvalidations).toBe(1)
      const log = await store.readLog('s1')
      expect(log.slice(1).map((entry) => `${entry.event} ${entry.step}`)).toEqual([
        'step.started hold',
        'step.failed hold',
        'step.rejected hold',
        'step.completed hold',
        'step.started charge',
        'compensation.deferred hold',
      ])
      expect(log[2]).toMatchObject({ step: 'hold', error })
    })

    it('moves the saga between index sets, and a resting state releases the lease', async () => {
      const { keys, store } = newStore()
      const bucket = bucketOf('s1')
      await store.acquire('s1', lease('a'), create)
      const taken: RecordedError = { ...error, code: 'SAGA_ERR_DOMAIN_REJECTION', message: 'taken' }
      await store.advance('s1', 'a', [{ kind: 'state', state: 'compensating', error: taken, step: 'hold' }])
      expect(await redis.client.smembers(keys.stateIndex(bucket, 'compensating'))).toEqual(['s1'])
      expect(await redis.client.zscore(keys.active(bucket), 's1')).not.toBeNull()
      await store.advance('s1', 'a', [
        { kind: 'phase', phase: 'compensation', step: 'hold', status: 'failed', error },
        { kind: 'state', state: 'compensation_failed', error, step: 'hold' },
      ])
      expect(await redis.client.smembers(keys.stateIndex(bucket, 'running'))).toEqual([])
      expect(await store.listByState('compensation_failed')).toEqual(['s1'])
      expect(await redis.client.zscore(keys.active(bucket), 's1')).toBeNull()
      expect(await store.load('s1')).toMatchObject({
        state: 'compensation_failed',
        parkedStep: 'hold',
        error,
      })
      expect(await redis.client.hget(keys.record('s1'), 'owner')).toBeNull()
      await expect(store.advance('s1', 'a', [started('again')])).rejects.toMatchObject({
        code: 'SAGA_ERR_LEASE_LOST',
      })
    })

    it('applies two state changes of one write in order (compensating, then compensated with nothing to undo)', async () => {
      const { keys, store } = newStore()
      await store.acquire('s1', lease('a'), create)
      await store.advance('s1', 'a', [
        { kind: 'phase', phase: 'step', step: 'hold', status: 'rejected', error },
        { kind: 'state', state: 'compensating', error, step: 'hold' },
        { kind: 'state', state: 'compensated' },
      ])
      const bucket = bucketOf('s1')
      expect(await redis.client.smembers(keys.stateIndex(bucket, 'compensating'))).toEqual([])
      expect(await store.listByState('compensated')).toEqual(['s1'])
      expect(await redis.client.zscore(keys.finished(bucket), 's1')).not.toBeNull()
      expect((await store.readLog('s1')).map((entry) => entry.event).slice(1)).toEqual([
        'step.rejected',
        'saga.compensating',
        'saga.compensated',
      ])
    })
  })

  describe('operator-action.lua', () => {
    const parkOn = async (store: RedisSagaStore, state: 'parked' | 'compensation_failed') => {
      await store.acquire('s1', lease('a', 60_000), create)
      const phase = state === 'parked' ? 'step' : 'compensation'
      await store.advance('s1', 'a', [
        { kind: 'phase', phase, step: 'hold', status: 'failed', error },
        { kind: 'state', state, error, step: 'hold' },
      ])
    }

    it('acts only on sagas waiting for an operator', async () => {
      const { store } = newStore()
      await expect(store.decide('nope', 'retry', { actor: 'ann' })).rejects.toMatchObject({
        code: 'SAGA_ERR_NOT_FOUND',
      })
      await store.acquire('s1', lease('a', 60_000), create)
      await expect(store.decide('s1', 'retry', { actor: 'ann' })).rejects.toMatchObject({
        code: 'SAGA_ERR_INVALID_STATE',
        details: { state: 'running' },
      })
    })

    it('retry gives the parked step a fresh budget and makes the saga claimable at once', async () => {
      const { keys, store } = newStore()
      await parkOn(store, 'compensation_failed')
      expect(await store.decide('s1', 'retry', { actor: 'ann', note: 'gateway back' })).toBe('compensating')
      expect((await store.load('s1'))?.compensations.get('hold')?.failures).toBe(0)
      expect(await redis.client.zscore(keys.active(bucketOf('s1')), 's1')).toBe('0')
      expect(await store.expiredLeases(10)).toEqual([{ sagaId: 's1', name: 'book' }])
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
      await expect(store.decide('s1', 'skip', { actor: 'ann', step: 'other' })).rejects.toMatchObject({
        code: 'SAGA_ERR_INVALID_STATE',
        details: { parkedStep: 'hold' },
      })
      expect(await store.decide('s1', 'skip', { actor: 'ann', step: 'hold' })).toBe('running')
      expect((await store.load('s1'))?.steps.get('hold')).toEqual({
        status: 'skipped',
        failures: 0,
        result: null,
        error,
      })
    })

    it('resolve closes the saga for good', async () => {
      const { keys, store } = newStore()
      await parkOn(store, 'parked')
      expect(await store.decide('s1', 'resolve', { actor: 'ann' })).toBe('resolved')
      expect(await store.listByState('resolved')).toEqual(['s1'])
      expect(await redis.client.zscore(keys.active(bucketOf('s1')), 's1')).toBeNull()
      expect(await redis.client.zscore(keys.finished(bucketOf('s1')), 's1')).not.toBeNull()
    })
  })

  describe('due-members.lua and the sweep reads', () => {
    it('finds expired leases in every bucket, with the saga names', async () => {
      const { store } = newStore()
      const ids = Array.from({ length: 20 }, (_, index) => `orphan-${index}`)
      expect(new Set(ids.map(bucketOf)).size).toBeGreaterThan(5)
      for (const id of ids) await store.acquire(id, lease('dead', 1), create)
      await store.acquire('alive', lease('a', 60_000), create)
      const expired = await eventually(async () => {
        const found = await store.expiredLeases(100)
        return found.length === ids.length ? found : undefined
      })
      expect(expired.map(({ sagaId }) => sagaId).sort()).toEqual([...ids].sort())
      expect(new Set(expired.map(({ name }) => name))).toEqual(new Set(['book']))
      expect(await store.expiredLeases(5)).toHaveLength(5)
    })
  })

  describe('forget-sagas.lua', () => {
    it('deletes sagas that rested in a final state longer than the retention, with their log and index entries', async () => {
      const { keys, store } = newStore()
      for (const id of ['old', 'young', 'old-parked']) await store.acquire(id, lease('a', 60_000), create)
      await store.advance('old', 'a', [{ kind: 'state', state: 'completed' }])
      await store.advance('young', 'a', [{ kind: 'state', state: 'completed' }])
      await store.advance('old-parked', 'a', [{ kind: 'state', state: 'parked', step: 'hold' }])
      const hourAgo = Date.now() - 3_600_000
      await redis.client.hset(keys.record('old'), 'updatedAt', hourAgo)
      await redis.client.zadd(keys.finished(bucketOf('old')), hourAgo, 'old')
      await redis.client.hset(keys.record('old-parked'), 'updatedAt', hourAgo)
      // A finished entry whose record is gone (deleted by hand, say) is dropped as well.
      await redis.client.zadd(keys.finished(bucketOf('ghost')), hourAgo, 'ghost')

      expect(await store.forgetFinished(60_000, 100)).toBe(1)
      expect(await redis.client.exists(keys.record('old'))).toBe(0)
      expect(await redis.client.exists(keys.log('old'))).toBe(0)
      expect(await redis.client.zscore(keys.finished(bucketOf('ghost')), 'ghost')).toBeNull()
      expect(await store.listByState('completed')).toEqual(['young'])
      expect((await store.load('young'))?.state).toBe('completed')
      expect((await store.load('old-parked'))?.state).toBe('parked')
      expect(await store.forgetFinished(60_000, 100)).toBe(0)
    })

    it('rechecks each saga: one that changed since it was listed is kept', async () => {
      const { keys, store } = newStore()
      await store.acquire('s1', lease('a', 60_000), create)
      await store.advance('s1', 'a', [{ kind: 'state', state: 'completed' }])
      // Listed as finished an hour ago, but its record says it changed just now.
      await redis.client.zadd(keys.finished(bucketOf('s1')), Date.now() - 3_600_000, 's1')
      expect(await store.forgetFinished(60_000, 100)).toBe(0)
      expect((await store.load('s1'))?.state).toBe('completed')
    })
  })

  describe('invalidation retry scripts', () => {
    const job = (id: string, sagaId = 's1') => ({
      id,
      sagaId,
      step: 'inv',
      target: { tags: ['t'] },
      error: { code: 'CS_ERR_INVALIDATION_FAILED', name: 'E', message: 'x' },
    })

    it('keep one job per id, hide a claimed job for the retry delay, and forget it once the cache confirms', async () => {
      const { keys, store } = newStore()
      const scheduler = new StoreRetryScheduler(store, 60_000)
      await scheduler.schedule(job('j1'))
      await scheduler.schedule(job('j1'))
      const { due, jobs } = keys.retries(bucketOf('s1'))
      expect(await redis.client.hlen(jobs)).toBe(1)

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
      await redis.client.zadd(due, 0, 'j1')
      ok = true
      expect(await scheduler.retryDue(cache)).toEqual({ done: 1, failed: [] })
      expect(invalidated).toEqual([{ tags: ['t'] }, { tags: ['t'] }])
      expect(await redis.client.hlen(jobs)).toBe(0)
      expect(await redis.client.zcard(due)).toBe(0)
    })

    it('claim due jobs of every bucket', async () => {
      const { store } = newStore()
      const sagaIds = Array.from({ length: 12 }, (_, index) => `saga-${index}`)
      for (const sagaId of sagaIds) await store.scheduleInvalidationRetry(job(`${sagaId}:inv:step`, sagaId))
      const claimed = await store.claimInvalidationRetries(100, 60_000)
      expect(claimed.map(({ sagaId }) => sagaId).sort()).toEqual([...sagaIds].sort())
    })
  })
})
