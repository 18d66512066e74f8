import { describe, expect, it } from 'vitest'
import { createCache } from '../index.js'
import { isPermanentRefusal } from '../redis/refusals.js'
import { freshNamespace } from '../test-support/namespaces.js'
import { useTestRedis } from '../test-support/test-redis.js'

const redis = useTestRedis({ allowExternal: false })

/** The ACL log's refusals of `command` for `user`, summed over repeated entries. */
async function refusals(user: string, command: string): Promise<number> {
  const entries = (await redis.admin.call('ACL', 'LOG')) as unknown[][]
  let count = 0
  for (const entry of entries) {
    const fields = new Map<string, unknown>()
    for (let i = 0; i < entry.length; i += 2) fields.set(String(entry[i]), entry[i + 1])
    if (fields.get('username') === user && fields.get('object') === command)
      count += Number(fields.get('count'))
  }
  return count
}

describe('an invalidation Redis refuses for good', () => {
  it('is not retried: a user without SCAN is refused once, and the call fails at once', async () => {
    const user = `no-scan-${process.pid}`
    await redis.admin.call('ACL', 'SETUSER', user, 'on', '>secret', '~*', '&*', '+@all', '-scan')
    await redis.admin.call('ACL', 'LOG', 'RESET')
    const cache = redis.track(
      createCache({
        namespace: freshNamespace('refused'),
        redis: `redis://${user}:secret@127.0.0.1:${redis.server.port}`,
      }),
    )
    await cache.ready()
    const failure = await cache.invalidate({ patterns: ['slots:*'] }).catch((error: unknown) => error)
    expect(failure).toMatchObject({ code: 'CS_ERR_INVALIDATION_FAILED' })
    // Four attempts before: a missing right is not transient.
    expect(await refusals(user, 'scan')).toBe(1)
  })
})

describe('isPermanentRefusal', () => {
  it("is true for Redis's NOPERM and WRONGTYPE replies, false for other errors", async () => {
    await redis.admin.set('a-string', 'x')
    const wrongType = await redis.admin.lpush('a-string', 'y').catch((error: unknown) => error)
    const user = `no-get-${process.pid}`
    await redis.admin.call('ACL', 'SETUSER', user, 'on', '>secret', '~*', '+@all', '-get')
    const refused = await redis.admin
      .call('AUTH', user, 'secret')
      .then(() => redis.admin.get('a-string'))
      .catch((error: unknown) => error)
    await redis.admin.call('AUTH', 'default', '')
    const syntax = await redis.admin.call('SET', 'k').catch((error: unknown) => error)

    expect(isPermanentRefusal(wrongType)).toBe(true)
    expect(isPermanentRefusal(refused)).toBe(true)
    // An error that a later attempt may not meet: a wrong call is a bug elsewhere, a closed socket transient.
    expect(isPermanentRefusal(syntax)).toBe(false)
    expect(isPermanentRefusal(new Error('Connection is closed.'))).toBe(false)
  })
})
