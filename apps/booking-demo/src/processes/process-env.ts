import { DEFAULT_QUEUE_PREFIX } from '@cachesaga/queue'
import { z } from 'zod'
import { parseInput } from '../parse-input.js'

/** The stores every process connects to; the API's configuration extends it. */
export const storesEnvSchema = z.object({
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }),
  /** One Redis for the cache, the saga state and the queues in this demo; see the README on splitting them. */
  REDIS_URL: z.url({ protocol: /^rediss?$/ }),
  QUEUE_PREFIX: z.string().min(1).default(DEFAULT_QUEUE_PREFIX),
})

/** The stores the relay and the worker handlers connect to, from the environment. */
export function readStoresEnv(env: NodeJS.ProcessEnv): z.output<typeof storesEnvSchema> {
  return parseInput(storesEnvSchema, env, 'env')
}
