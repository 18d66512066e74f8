import { z } from 'zod'
import { CliError } from '../errors.js'
import { parseInput } from './flags.js'

const redisUrl = z.url({ protocol: /^rediss?$/, error: 'expected a redis:// or rediss:// URL' })

const globalsSchema = z.object({
  redis: redisUrl.optional(),
  namespace: z.string().min(1, 'must not be empty').optional(),
  tenant: z.string().min(1, 'must not be empty').optional(),
  json: z.boolean().default(false),
})

/** The options every command accepts, before the command's own. */
export interface Globals {
  /** From `--redis`, else `REDIS_URL`; undefined when neither is set (a command that needs Redis refuses). */
  redisUrl: string | undefined
  namespace: string | undefined
  tenant: string | undefined
  json: boolean
}

export function parseGlobals(
  flags: Record<string, unknown>,
  env: Record<string, string | undefined>,
): Globals {
  const parsed = parseInput(globalsSchema, flags)
  if (parsed.tenant !== undefined && parsed.namespace === undefined) {
    throw new CliError('CLI_ERR_USAGE', '--tenant: needs --namespace')
  }
  const fromEnv =
    parsed.redis === undefined && env.REDIS_URL !== undefined
      ? parseInput(
          z.object({ REDIS_URL: redisUrl }),
          { REDIS_URL: env.REDIS_URL },
          { REDIS_URL: 'REDIS_URL' },
        ).REDIS_URL
      : undefined
  return {
    redisUrl: parsed.redis ?? fromEnv,
    namespace: parsed.namespace,
    tenant: parsed.tenant,
    json: parsed.json,
  }
}
