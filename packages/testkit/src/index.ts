export { TestkitError, type TestkitErrorCode } from './errors.js'
export { type FaultProxy, type FaultProxyOptions, startFaultProxy } from './fault-proxy.js'
export { getFreePort } from './free-port.js'
export {
  type PostgresServer,
  type StartPostgresOptions,
  startPostgres,
  type TestDatabase,
} from './postgres.js'
export { type RadicaleServer, type StartRadicaleOptions, startRadicale } from './radicale.js'
export { type RedisCluster, startRedisCluster } from './redis-cluster.js'
export { type RedisServer, type StartRedisOptions, startRedis } from './redis-server.js'
