import { Cluster, Redis } from 'ioredis'
import { describe, expect, it } from 'vitest'
import { describeRedis, redactUrl } from './describe-redis.js'

describe('describeRedis', () => {
  it('redacts the password of a URL and keeps everything else', () => {
    expect(describeRedis('redis://app:s3cret@cache.internal:6380/2')).toBe(
      'redis://app:***@cache.internal:6380/2',
    )
    expect(describeRedis('rediss://:s3cret@cache.internal')).toBe('rediss://:***@cache.internal')
    expect(describeRedis('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379')
    expect(redactUrl('not a url s3cret')).toBe('(an unparsable Redis URL)')
  })

  it('names options, Sentinel and Cluster connections without their passwords', () => {
    expect(describeRedis({ host: 'cache', port: 6390, password: 's3cret', db: 1 })).toBe(
      'redis://:***@cache:6390/1',
    )
    expect(describeRedis({ host: 'cache', tls: {} })).toBe('rediss://cache:6379/0')
    expect(
      describeRedis({ sentinels: [{ host: 's1', port: 26379 }], name: 'main', sentinelPassword: 'x' }),
    ).toBe('sentinel main via s1:26379')
    expect(describeRedis({ cluster: [{ host: 'n1', port: 7000 }, 7001] })).toBe(
      'cluster n1:7000,127.0.0.1:7001',
    )
  })

  it('names a client handed in by what it was created with', () => {
    const client = new Redis({ host: 'cache', port: 6391, password: 's3cret', lazyConnect: true })
    const cluster = new Cluster([{ host: 'n1', port: 7000 }], { lazyConnect: true })
    expect(describeRedis(client)).toBe('redis://:***@cache:6391/0')
    expect(describeRedis(cluster)).toBe('cluster n1:7000')
    client.disconnect()
    cluster.disconnect()
  })
})
