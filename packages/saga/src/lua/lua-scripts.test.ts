import { describe, expect, it } from 'vitest'
import { StoreRetryScheduler } from '../invalidation/retry-scheduler.js'
import { bucketOf, KeyLayout } from '../store/redis/key-layout.js'
import { eventually, freshPrefix, onEachTopology } from '../test-support/redis.js'
import { testStore } from '../test-support/runner.js'
import { create, error, lease, started } from '../testing/store-fixtures.js'

// What each script does to the Redis keys: the bucket's indexes, the record's fields, fencing that writes nothing.
// What a store does through its interface is the contract's (`redis-saga-store.contract.test.ts`).

onEachTopology((redis) => {
  const newStore = () => {
    const prefix = freshPrefix()
    return { keys: new KeyLayout(prefix), store: testStore(redis, prefix) }
  }

  describe('acquire-saga.lua', () => {
    it('indexes a new saga in its bucket as running and active, leased to its creator', async () => {
      const { keys, store } = newStore()
      await store.acquire('s1', lease('a'), { ...create, changes: [started('hold')] })
      const bucket = bucketOf('s1')
      expect(await redis.client.smembers(keys.stateIndex(bucket, 'running'))).toEqual(['s1'])
      expect(await redis.client.hget(keys.record('s1'), 'owner')).toBe('a')
      expect(await redis.client.hget(keys.record('s1'), 'step:hold:status')).toBe('started')
      expect(Number(await redis.client.zscore(keys.active(bucket), 's1'))).toBe(
        Number(await redis.client.hget(keys.record('s1'), 'leaseUntil')),
      )
      expect(await redis.client.hexists(keys.record('s1'), 'trace')).toBe(0)
    })

    it('keeps the trace context a saga is created in, for the runners that resume it', async () => {
      const { keys, store } = newStore()
      const traceCarrier = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' }
      const created = await store.acquire('s1', lease('a', 1), {
        ...create,
        traceCarrier,
        changes: [started('hold')],
      })
      expect(created).toMatchObject({ outcome: 'created', record: { traceCarrier } })
      expect(JSON.parse((await redis.client.hget(keys.record('s1'), 'trace')) ?? '')).toEqual(traceCarrier)
      expect(await redis.client.hget(keys.record('s1'), 'step:hold:status')).toBe('started')
      const resumed = await eventually(async () => {
        const taken = await store.acquire('s1', lease('b'))
        return taken.outcome === 'acquired' ? taken : undefined
      })
      expect(resumed.record.traceCarrier).toEqual(traceCarrier)
      expect((await store.load('s1'))?.traceCarrier).toEqual(traceCarrier)
    })
  })

  describe('renew-lease.lua', () => {
    it("moves the holder's deadline in the record and in the active index", async () => {
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
    })
  })

  describe('advance-saga.lua', () => {
    it('writes nothing, not even to the log, for a token that lost the lease', async () => {
      const { keys, store } = newStore()
      await store.acquire('s1', lease('a'), create)
      const before = await redis.client.hgetall(keys.record('s1'))
      await expect(store.advance('s1', 'b', [started('hold')])).rejects.toMatchObject({
        code: 'SAGA_ERR_LEASE_LOST',
      })
      expect(await redis.client.hgetall(keys.record('s1'))).toEqual(before)
      expect(await redis.client.llen(keys.log('s1'))).toBe(1)
    })

    it('moves the saga between the index sets of its bucket; resting releases the lease, final starts retention', async () => {
      const { keys, store } = newStore()
      const bucket = bucketOf('s1')
      await store.acquire('s1', lease('a'), create)
      await store.advance('s1', 'a', [{ kind: 'state', state: 'compensating', error, step: 'hold' }])
      expect(await redis.client.smembers(keys.stateIndex(bucket, 'running'))).toEqual([])
      expect(await redis.client.smembers(keys.stateIndex(bucket, 'compensating'))).toEqual(['s1'])
      expect(await redis.client.zscore(keys.active(bucket), 's1')).not.toBeNull()
      await store.advance('s1', 'a', [{ kind: 'state', state: 'compensated' }])
      expect(await redis.client.smembers(keys.stateIndex(bucket, 'compensating'))).toEqual([])
      expect(await redis.client.smembers(keys.stateIndex(bucket, 'compensated'))).toEqual(['s1'])
      expect(await redis.client.zscore(keys.active(bucket), 's1')).toBeNull()
      expect(await redis.client.zscore(keys.finished(bucket), 's1')).not.toBeNull()
      expect(await redis.client.hmget(keys.record('s1'), 'owner', 'leaseUntil', 'parkedStep')).toEqual([
        null,
        null,
        null,
      ])
    })

    it('keeps a parked saga out of retention, with the step it waits on', async () => {
      const { keys, store } = newStore()
      await store.acquire('s1', lease('a'), create)
      await store.advance('s1', 'a', [{ kind: 'state', state: 'parked', error, step: 'hold' }])
      expect(await redis.client.hget(keys.record('s1'), 'parkedStep')).toBe('hold')
      expect(await redis.client.zscore(keys.finished(bucketOf('s1')), 's1')).toBeNull()
    })
  })

  describe('operator-action.lua', () => {
    it('makes a retried saga claimable at once (active score 0), and a resolved one final', async () => {
      const { keys, store } = newStore()
      const bucket = bucketOf('s1')
      for (const id of ['s1', 's2']) {
        await store.acquire(id, lease('a', 60_000), create)
        await store.advance(id, 'a', [{ kind: 'state', state: 'parked', error, step: 'hold' }])
      }
      await store.decide('s1', 'retry', { actor: 'ann' })
      expect(await redis.client.zscore(keys.active(bucket), 's1')).toBe('0')
      await store.decide('s2', 'resolve', { actor: 'ann' })
      expect(await redis.client.zscore(keys.finished(bucketOf('s2')), 's2')).not.toBeNull()
      expect(await redis.client.smembers(keys.stateIndex(bucketOf('s2'), 'parked'))).toEqual([])
    })
  })

  describe('due-members.lua', () => {
    it('finds expired leases in every bucket', async () => {
      const { store } = newStore()
      const ids = Array.from({ length: 20 }, (_, index) => `orphan-${index}`)
      expect(new Set(ids.map(bucketOf)).size).toBeGreaterThan(5)
      for (const id of ids) await store.acquire(id, lease('dead', 1), create)
      await new Promise((resolve) => setTimeout(resolve, 20))
      expect((await store.expiredLeases(100)).map(({ sagaId }) => sagaId).sort()).toEqual([...ids].sort())
    })
  })

  describe('forget-saga.lua', () => {
    it('deletes the record, the log and the index entries, and drops an entry whose record is gone', async () => {
      const { keys, store } = newStore()
      await store.acquire('old', lease('a', 60_000), create)
      await store.advance('old', 'a', [{ kind: 'state', state: 'completed' }])
      await redis.client.hset(keys.record('old'), 'updatedAt', Date.now() - 3_600_000)
      await redis.client.zadd(keys.finished(bucketOf('old')), Date.now() - 3_600_000, 'old')
      await redis.client.zadd(keys.finished(bucketOf('ghost')), Date.now() - 3_600_000, 'ghost')
      await redis.client.sadd(keys.stateIndex(bucketOf('ghost'), 'completed'), 'ghost')

      expect(await store.forgetFinished(60_000, 100)).toBe(1)
      expect(await redis.client.exists(keys.record('old'))).toBe(0)
      expect(await redis.client.exists(keys.log('old'))).toBe(0)
      expect(await redis.client.zscore(keys.finished(bucketOf('old')), 'old')).toBeNull()
      expect(await redis.client.zscore(keys.finished(bucketOf('ghost')), 'ghost')).toBeNull()
      expect(await redis.client.smembers(keys.stateIndex(bucketOf('ghost'), 'completed'))).toEqual([])
    })

    it('rechecks each saga: one whose record changed since it was listed is kept', async () => {
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
    it('keep the jobs in the bucket of their saga, hidden while claimed, deleted once the cache confirms', async () => {
      const { keys, store } = newStore()
      const scheduler = new StoreRetryScheduler(store, 60_000)
      const job = {
        id: 'j1',
        sagaId: 's1',
        step: 'inv',
        target: { tags: ['t'] },
        error: { code: 'CS_ERR_INVALIDATION_FAILED', name: 'E', message: 'x' },
      }
      await scheduler.schedule(job)
      const { due, jobs } = keys.retries(bucketOf('s1'))
      expect(await redis.client.hlen(jobs)).toBe(1)
      let ok = false
      const cache = { invalidate: async () => ({ ok }) }
      expect((await scheduler.retryDue(cache)).failed).toHaveLength(1)
      expect(Number(await redis.client.zscore(due, 'j1'))).toBeGreaterThan(Date.now() + 50_000)
      await redis.client.zadd(due, 0, 'j1')
      ok = true
      expect(await scheduler.retryDue(cache)).toEqual({ done: 1, failed: [] })
      expect(await redis.client.hlen(jobs)).toBe(0)
      expect(await redis.client.zcard(due)).toBe(0)
    })
  })
})
