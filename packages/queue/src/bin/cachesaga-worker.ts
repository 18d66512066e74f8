import { readFileSync } from 'node:fs'
import { CachesagaError, type RedisConnection } from '@cachesaga/common'
import { Command, CommanderError } from 'commander'
import { z } from 'zod'
import { parseOptions, STALLED_DEFAULTS } from '../config.js'
import type { QueueErrorCode } from '../errors.js'
import { startWorkers, type WorkerGroup } from '../worker/worker-group.js'
import { jsonLinesLog } from '../worker/worker-log.js'
import { loadHandlers } from './load-handlers.js'

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string
}

/** Exit codes: 0 clean stop, 1 a failure at run time (Redis unreachable, shutdown deadline), 2 a usage error. */
const USAGE = 2
const FAILURE = 1
const USAGE_CODES: readonly string[] = [
  'CSQ_ERR_INVALID_OPTIONS',
  'CSQ_ERR_INVALID_HANDLERS',
] satisfies QueueErrorCode[]

const envSchema = z
  .object({
    REDIS_URL: z
      .url({ protocol: /^rediss?$/, error: 'REDIS_URL must be a redis:// or rediss:// URL' })
      .optional(),
    REDIS_CLUSTER_NODES: z
      .string()
      .regex(/^[^\s,:]+:\d+(,[^\s,:]+:\d+)*$/, 'REDIS_CLUSTER_NODES must be host:port,host:port,...')
      .optional(),
    // A node list has no place for credentials, as a URL has: an ACL user on a Cluster logs in with these.
    REDIS_USERNAME: z.string().optional(),
    REDIS_PASSWORD: z.string().optional(),
  })
  .refine((env) => (env.REDIS_URL === undefined) !== (env.REDIS_CLUSTER_NODES === undefined), {
    message: 'set exactly one of REDIS_URL (a single Redis) and REDIS_CLUSTER_NODES (a Redis Cluster)',
    path: ['REDIS_URL'],
  })
  .refine(
    (env) =>
      env.REDIS_URL === undefined || (env.REDIS_USERNAME === undefined && env.REDIS_PASSWORD === undefined),
    {
      message: 'with REDIS_URL, put the credentials in the URL (redis://user:password@host:port)',
      path: ['REDIS_USERNAME'],
    },
  )

function connectionFromEnv(env: NodeJS.ProcessEnv): RedisConnection {
  // An empty variable counts as unset, as shells and compose files leave them.
  const parsed = parseOptions(envSchema, {
    REDIS_URL: env.REDIS_URL || undefined,
    REDIS_CLUSTER_NODES: env.REDIS_CLUSTER_NODES || undefined,
    REDIS_USERNAME: env.REDIS_USERNAME || undefined,
    REDIS_PASSWORD: env.REDIS_PASSWORD || undefined,
  })
  if (parsed.REDIS_URL !== undefined) return parsed.REDIS_URL
  const nodes = parsed.REDIS_CLUSTER_NODES!.split(',').map((node) => {
    const at = node.lastIndexOf(':')
    return { host: node.slice(0, at), port: Number(node.slice(at + 1)) }
  })
  const credentials = {
    ...(parsed.REDIS_USERNAME !== undefined && { username: parsed.REDIS_USERNAME }),
    ...(parsed.REDIS_PASSWORD !== undefined && { password: parsed.REDIS_PASSWORD }),
  }
  return Object.keys(credentials).length === 0
    ? { cluster: nodes }
    : { cluster: nodes, options: { redisOptions: credentials } }
}

/** A number of milliseconds stays a number; anything else (`'30s'`) is left for the duration parser. */
const duration = (value: string): number | string => (/^\d+$/.test(value) ? Number(value) : value)

function readCommandLine(argv: string[]) {
  const program = new Command('cachesaga-worker')
    .description('Runs cachesaga queue workers with the handlers of an application module.')
    .version(version, '-V, --version')
    .requiredOption(
      '--handlers <module>',
      'module whose default export is defineHandlers({ ... }); .js, or .ts with tsx',
    )
    .option(
      '--queues <names>',
      'comma-separated queues (default: every queue the module has handlers for)',
      (value) => value.split(','),
    )
    .option('--concurrency <n>', 'jobs in parallel per queue (default: 8)', Number)
    .option('--prefix <prefix>', 'queue key prefix (default: {cachesaga})')
    .option('--timeout <duration>', 'how long start-up waits for Redis (default: 10s)', duration)
    .option(
      '--shutdown-timeout <duration>',
      'deadline for in-flight jobs on SIGTERM (default: 30s)',
      duration,
    )
    .option(
      '--lock-duration <duration>',
      `job lock duration (default: ${STALLED_DEFAULTS.lockDuration} ms)`,
      duration,
    )
    .option(
      '--stalled-interval <duration>',
      `stalled check interval (default: ${STALLED_DEFAULTS.stalledInterval} ms)`,
      duration,
    )
    .option(
      '--max-stalled-count <n>',
      `stalls before failing (default: ${STALLED_DEFAULTS.maxStalledCount})`,
      Number,
    )
    .exitOverride()
  const flags = program.parse(argv).opts<Record<string, unknown>>()
  return {
    handlers: flags.handlers as string,
    shutdownTimeout: (flags.shutdownTimeout as number | string | undefined) ?? '30s',
    options: {
      redis: connectionFromEnv(process.env),
      queues: flags.queues as string[] | undefined,
      concurrency: flags.concurrency as number | undefined,
      prefix: flags.prefix as string | undefined,
      timeout: flags.timeout as number | string | undefined,
      lockDuration: flags.lockDuration as number | string | undefined,
      stalledInterval: flags.stalledInterval as number | string | undefined,
      maxStalledCount: flags.maxStalledCount as number | undefined,
    },
  }
}

async function main(): Promise<void> {
  const commandLine = readCommandLine(process.argv)
  const handlers = await loadHandlers(commandLine.handlers)
  // Signal handlers go in before start-up, so a SIGTERM that lands while connecting is not lost.
  let stopping = false
  const started = startWorkers({ ...commandLine.options, ...handlers } as Parameters<typeof startWorkers>[0])
  const stop = async (signal: NodeJS.Signals): Promise<void> => {
    if (stopping) return
    stopping = true
    let group: WorkerGroup
    try {
      group = await started
    } catch {
      return // start-up failed and main() reports it
    }
    jsonLinesLog('info', 'stopping: no new jobs, waiting for in-flight ones', {
      signal,
      timeout: commandLine.shutdownTimeout,
    })
    const { forced } = await group.close({ timeout: commandLine.shutdownTimeout })
    jsonLinesLog(
      forced ? 'error' : 'info',
      forced ? 'shutdown deadline passed; exiting with jobs in flight' : 'stopped',
    )
    process.exit(forced ? FAILURE : 0)
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
  await started
}

main().catch((error: unknown) => {
  if (error instanceof CommanderError) {
    // Commander printed the usage error (or the help, or the version) itself.
    process.exit(error.exitCode === 0 ? 0 : USAGE)
  }
  const code = error instanceof CachesagaError ? error.code : undefined
  jsonLinesLog('error', 'worker failed to start', {
    code,
    error: error instanceof Error ? error.message : String(error),
  })
  process.exit(code !== undefined && USAGE_CODES.includes(code) ? USAGE : FAILURE)
})
