import { describe, expect, it } from 'vitest'
import { eventually } from '../test-support/eventually.js'
import { useRedis } from '../test-support/use-redis.js'
import { LagRecorder, readLagHistogram } from './lag-histogram.js'

describe('the lag histogram', () => {
  const env = useRedis()

  it('is empty, with no percentiles, before anything is recorded', async () => {
    const histogram = await readLagHistogram(env.redis, 'lag:empty')
    expect(histogram.count).toBe(0)
    expect(histogram.p50Ms).toBeUndefined()
    expect(histogram.p99Ms).toBeUndefined()
  })

  it('adds up samples from several recorders and reports percentiles as bucket upper bounds', async () => {
    const key = 'lag:mixed'
    const failures: unknown[] = []
    const recorders = [0, 1].map(() => new LagRecorder(env.redis, key, (error) => failures.push(error)))
    const samples = [...Array(98).fill(3), 40, 120_000]
    samples.forEach((lag, i) => {
      recorders[i % 2]!.record(lag)
    })
    expect((await readLagHistogram(env.redis, key)).count).toBe(0)
    await Promise.all(recorders.map((recorder) => recorder.close()))

    const histogram = await readLagHistogram(env.redis, key)
    expect(histogram.count).toBe(100)
    expect(histogram.buckets.find((bucket) => bucket.upToMs === 5)?.count).toBe(98)
    expect(histogram.buckets.find((bucket) => bucket.upToMs === 50)?.count).toBe(1)
    expect(histogram.buckets.at(-1)).toEqual({ upToMs: Number.POSITIVE_INFINITY, count: 1 })
    expect(histogram.p50Ms).toBe(5)
    expect(histogram.p99Ms).toBe(50)
    expect(failures).toEqual([])
  })

  it('flushes on its own timer while running', async () => {
    const recorder = new LagRecorder(env.redis, 'lag:timer', () => {}, 20)
    try {
      recorder.record(7)
      await eventually(
        'the timed flush',
        async () => (await readLagHistogram(env.redis, 'lag:timer')).count === 1,
      )
    } finally {
      await recorder.close()
    }
  })

  it('counts a negative lag (clock skew between producer and worker) as zero', async () => {
    const recorder = new LagRecorder(env.redis, 'lag:skew', () => {})
    recorder.record(-250)
    await recorder.close()
    expect((await readLagHistogram(env.redis, 'lag:skew')).p50Ms).toBe(5)
  })
})
