import fp from 'fastify-plugin'
import type { ApiConfig } from '../api-config.js'

declare module 'fastify' {
  interface FastifyInstance {
    config: ApiConfig
  }
}

/** The process's configuration, read once from the environment, for every other plugin. */
export const configPlugin = fp<{ config: ApiConfig }>(
  async (app, { config }) => {
    app.decorate('config', config)
  },
  { name: 'config' },
)
