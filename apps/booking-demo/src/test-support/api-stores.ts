import {
  type RadicaleServer,
  type RedisServer,
  startRadicale,
  startRedis,
  startRedisCluster,
} from '@cachesaga/testkit'
import type { FastifyInstance } from 'fastify'
import { CalDavCalendarProvider } from '../calendar/caldav/caldav-calendar-provider.js'
import { ensureStaffCalendars } from '../calendar/ensure-staff-calendars.js'
import { calendarHome } from '../demo/demo-calendar.js'
import { type StackRedis, withRedisEnv } from '../demo/process-stack.js'
import { newStackSecrets, type StackSecrets, secretsEnv } from '../demo/stack-secrets.js'
import { readApiConfig } from '../http/api-config.js'
import { buildServer } from '../http/build-server.js'
import { seedDemoData } from '../seed/seed-demo-data.js'
import { createTestDatabase, type TestDatabase } from './test-database.js'

/**
 * What in-process API servers of one test file run on: a seeded database of its own, a private Redis (or a
 * private 3-master cluster), a private Radicale with the staff calendars, and
 * credentials made for the file. `server(env)` builds one more API instance on them (`inject` or `listen` it);
 * every server it built is closed by `stop()`.
 */
export interface ApiStores {
  db: TestDatabase
  redis: StackRedis
  secrets: StackSecrets
  /** An API instance on these stores; `env` adds to or overrides its environment (limits, instance name). */
  server(env?: NodeJS.ProcessEnv): Promise<FastifyInstance>
  stop(): Promise<void>
}

export async function startApiStores(label: string, options: { cluster?: boolean } = {}): Promise<ApiStores> {
  const db = await createTestDatabase(label)
  await seedDemoData(db.pool)
  // Without persistence: the sagas keep their state in PostgreSQL, not in Redis.
  let redisServer: RedisServer | undefined
  let stopRedis: () => Promise<void>
  let redis: StackRedis
  if (options.cluster) {
    const cluster = await startRedisCluster()
    redis = { clusterNodes: cluster.nodes }
    stopRedis = () => cluster.stop()
  } else {
    redisServer = await startRedis({ allowExternal: false })
    redis = { url: redisServer.url }
    stopRedis = () => redisServer!.stop()
  }
  const radicale: RadicaleServer = await startRadicale()
  // The booking flows' calendar provider reads CALDAV_URL from the process's environment.
  process.env.CALDAV_URL = calendarHome(radicale)
  await ensureStaffCalendars(db.pool, new CalDavCalendarProvider({ url: process.env.CALDAV_URL }))
  const secrets = newStackSecrets()
  const servers: FastifyInstance[] = []
  return {
    db,
    redis,
    secrets,
    server: async (env = {}) => {
      const config = readApiConfig({
        ...withRedisEnv({ DATABASE_URL: db.url }, redis),
        ...secretsEnv(secrets),
        INSTANCE_NAME: `${label.replaceAll('_', '-')}-${servers.length + 1}`,
        ...env,
      })
      const server = await buildServer(config)
      servers.push(server)
      return server
    },
    stop: async () => {
      await Promise.all(servers.map((server) => server.close()))
      await radicale.stop()
      await stopRedis()
      await db.drop()
    },
  }
}
