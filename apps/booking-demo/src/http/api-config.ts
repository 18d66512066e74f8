import { z } from 'zod'
import { parseInput } from '../parse-input.js'
import { readStoresEnv, type StoresEnv } from '../processes/process-env.js'
import { demoIds } from '../seed/seed-demo-data.js'

const apiEnvSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65_535).default(3_000),
  HOST: z.string().min(1).default('127.0.0.1'),
  /** Names this instance's change-listener checkpoint and its PostgreSQL connections; one per API instance. */
  INSTANCE_NAME: z
    .string()
    .regex(/^[a-z0-9-]+$/)
    .default('api'),
  /** The tenant this deployment serves (a real one would take it from the caller's credentials). */
  TENANT_ID: z.uuid().default(demoIds.tenant),
})

export type ApiConfig = StoresEnv & z.output<typeof apiEnvSchema>

/** Reads the API's configuration from the environment; a bad variable fails naming it. */
export function readApiConfig(env: NodeJS.ProcessEnv): ApiConfig {
  return { ...readStoresEnv(env), ...parseInput(apiEnvSchema, env, 'env') }
}
