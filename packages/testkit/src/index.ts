export {
  type ClusterConnection,
  type ClusterTopology,
  type FailoverOptions,
  type RedisCluster,
  type StartRedisClusterOptions,
  startRedisCluster,
} from './cluster/cluster.js'
export { TestkitError, type TestkitErrorCode } from './errors.js'
export { type EventuallyOptions, eventually, type Settled } from './eventually.js'
export { type FaultProxy, type FaultProxyOptions, startFaultProxy } from './fault-proxy.js'
export { getFreePort } from './free-port.js'
export {
  type PostgresServer,
  type StartPostgresOptions,
  startPostgres,
  type TestDatabase,
} from './postgres.js'
export { type RadicaleServer, type StartRadicaleOptions, startRadicale } from './radicale.js'
export type { RedisCredentials } from './redis/acl.js'
export type { RedisAclUser, RedisNodeOptions, RedisPersistence } from './redis/options.js'
export type { RedisSnapshot, RestartFrom } from './redis/persistence.js'
export { type RedisServer, type RestartOptions, type StartRedisOptions, startRedis } from './redis/server.js'
export {
  type FiledSpan,
  isChildOf,
  readSpanFile,
  SpanFileExporter,
  type SpanRecorder,
  startSpanRecorder,
} from './spans.js'
