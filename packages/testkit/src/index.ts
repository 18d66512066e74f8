export { getFreePort } from './free-port.js'
export { type RedisServer, type StartRedisOptions, startRedis } from './redis-server.js'
