import fp from 'fastify-plugin'
import pg from 'pg'

declare module 'fastify' {
  interface FastifyInstance {
    /** This instance's PostgreSQL pool; its connections carry the instance's name in `pg_stat_activity`. */
    pool: pg.Pool
  }
}

/** The PostgreSQL pool of the process, closed last. */
export const databasePlugin = fp(
  async (app) => {
    const pool = new pg.Pool({
      connectionString: app.config.DATABASE_URL,
      max: 20,
      application_name: app.config.INSTANCE_NAME,
    })
    // An idle connection that dies (a restart, a test killing it) is replaced by the pool, not a crash.
    pool.on('error', () => {})
    app.decorate('pool', pool)
    app.addHook('onClose', () => pool.end())
  },
  { name: 'database', dependencies: ['config'] },
)
