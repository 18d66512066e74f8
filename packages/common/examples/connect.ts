import {
  CachesagaError,
  closeRedis,
  describeRedis,
  durationSchema,
  openRedis,
  type RedisConnection,
  waitForRedis,
} from '@cachesaga/common'

const connection: RedisConnection = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const timeoutMs = durationSchema.parse('2s')

const client = openRedis(connection, { commandTimeoutMs: 250, maxRetriesPerRequest: 1 })
await waitForRedis(client, { timeoutMs, target: describeRedis(connection) })
console.log('ready:', await client.ping())
await closeRedis(client, 1_000)

// Nothing listens on port 1: the wait is bounded and the error is coded.
const nowhere = 'redis://:s3cret@127.0.0.1:1'
const lost = openRedis(nowhere, { commandTimeoutMs: 250, maxRetriesPerRequest: 1 })
lost.on('error', () => {})
try {
  await waitForRedis(lost, { timeoutMs: 500, target: describeRedis(nowhere) })
} catch (error) {
  if (error instanceof CachesagaError) console.log(error.code, error.details?.target)
} finally {
  lost.disconnect()
}
