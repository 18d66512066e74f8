import type { RedisConnection } from '@cachesaga/common'
import { DEFAULT_QUEUE_PREFIX } from '@cachesaga/queue'
import { z } from 'zod'
import { parseInput } from '../parse-input.js'

const clusterNodesSchema = z
  .string()
  .regex(/^[^\s,:]+:\d+(,[^\s,:]+:\d+)*$/, 'expected host:port,host:port')
  .transform((nodes) =>
    nodes.split(',').map((node) => {
      const [host, port] = node.split(':')
      return { host: host!, port: Number(port) }
    }),
  )

/**
 * The stores every process connects to; the API's configuration extends it. Redis is `REDIS_URL` or
 * `REDIS_CLUSTER_NODES` (`host:port,host:port`), exactly one: the same variables `cachesaga-worker` reads.
 */
export const storesEnvSchema = z
  .object({
    DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }),
    /** One Redis for the cache, the saga state and the queues in this demo; see the README on splitting them. */
    REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
    REDIS_CLUSTER_NODES: clusterNodesSchema.optional(),
    /** Has a hash tag (`{cachesaga}`), so every queue key of the app sits in one cluster slot, as BullMQ needs. */
    QUEUE_PREFIX: z.string().min(1).default(DEFAULT_QUEUE_PREFIX),
  })
  .refine((env) => (env.REDIS_URL === undefined) !== (env.REDIS_CLUSTER_NODES === undefined), {
    message: 'set exactly one of REDIS_URL and REDIS_CLUSTER_NODES',
    path: ['REDIS_URL'],
  })
  .transform(({ REDIS_URL, REDIS_CLUSTER_NODES, ...rest }) => ({
    ...rest,
    redis: (REDIS_URL ?? { cluster: REDIS_CLUSTER_NODES! }) as RedisConnection,
  }))

export type StoresEnv = z.output<typeof storesEnvSchema>

/** The stores the relay and the worker handlers connect to, from the environment. */
export function readStoresEnv(env: NodeJS.ProcessEnv): StoresEnv {
  return parseInput(storesEnvSchema, env, 'env')
}
