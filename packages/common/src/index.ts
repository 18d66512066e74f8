export { DURATION_EXPECTED, type Duration, durationSchema, parseDuration } from './duration/duration.js'
export { CachesagaError, errorCode } from './errors/cachesaga-error.js'
export { describeRedis, redactUrl } from './redis/describe-redis.js'
export { type ConnectionProfile, isCluster, openRedis } from './redis/open-redis.js'
export {
  type ClusterConnectionOptions,
  isClusterConnection,
  REDIS_CONNECTION_EXPECTED,
  type RedisConnection,
  redisConnectionSchema,
} from './redis/redis-connection.js'
export { redisFailureReason } from './redis/redis-failure.js'
export { closeRedis, RedisUnreachableError, waitForRedis } from './redis/wait-for-redis.js'
export { describeIssues, firstIssuePath } from './zod/describe-issues.js'
