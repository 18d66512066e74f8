import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Command } from 'commander'
import { z } from 'zod'
import { parseOptions, STALLED_DEFAULTS, workerOptionsSchema } from '../config.js'
import { assertHandlers } from '../worker/handlers.js'
import { startWorkers } from '../worker/worker-group.js'
import { jsonLinesLog } from '../worker/worker-log.js'

const envSchema = z.object({
  REDIS_URL: z.url({ protocol: /^rediss?$/, error: 'REDIS_URL must be a redis:// or rediss:// URL' }),
})

const cliSchema = workerOptionsSchema.extend({
  /** Module whose default export is `defineHandlers({ ... })`. */
  handlers: z.string().min(1),
  /** How long SIGTERM/SIGINT wait for in-flight jobs before exiting with code 1. */
  shutdownTimeoutMs: z.int().positive().default(30_000),
})

const integer = (value: string): number => Number(value)

function readCommandLine(argv: string[]): z.output<typeof cliSchema> {
  const flags = new Command('cachesaga-worker')
    .description('Runs cachesaga queue workers with the handlers of an application module.')
    .requiredOption('--handlers <module>', 'module whose default export is defineHandlers({ ... })')
    .option('--queues <names>', 'comma-separated queues (default: all)', (value) => value.split(','))
    .option('--concurrency <n>', 'jobs in parallel per queue (default: 8)', integer)
    .option('--prefix <prefix>', 'queue key prefix (default: cachesaga)')
    .option('--shutdown-timeout <ms>', 'deadline for in-flight jobs on SIGTERM (default: 30000)', integer)
    .option(
      '--lock-duration <ms>',
      `job lock duration (default: ${STALLED_DEFAULTS.lockDurationMs})`,
      integer,
    )
    .option(
      '--stalled-interval <ms>',
      `stalled check interval (default: ${STALLED_DEFAULTS.stalledIntervalMs})`,
      integer,
    )
    .option(
      '--max-stalled-count <n>',
      `stalls before failing (default: ${STALLED_DEFAULTS.maxStalledCount})`,
      integer,
    )
    .parse(argv)
    .opts<Record<string, unknown>>()
  const env = parseOptions(envSchema, process.env)
  return parseOptions(cliSchema, {
    redisUrl: env.REDIS_URL,
    handlers: flags.handlers,
    queues: flags.queues,
    concurrency: flags.concurrency,
    prefix: flags.prefix,
    shutdownTimeoutMs: flags.shutdownTimeout,
    lockDurationMs: flags.lockDuration,
    stalledIntervalMs: flags.stalledInterval,
    maxStalledCount: flags.maxStalledCount,
  })
}

async function main(): Promise<void> {
  const { handlers: modulePath, shutdownTimeoutMs, ...options } = readCommandLine(process.argv)
  const module = (await import(pathToFileURL(resolve(modulePath)).href)) as { default?: unknown }
  assertHandlers(module.default, modulePath)
  // Signal handlers go in before start-up, so a SIGTERM that lands while connecting is not lost.
  let stopping = false
  const started = startWorkers({ ...options, handlers: module.default })
  const stop = async (signal: NodeJS.Signals): Promise<void> => {
    if (stopping) return
    stopping = true
    const group = await started
    jsonLinesLog('info', 'stopping: no new jobs, waiting for in-flight ones', {
      signal,
      deadlineMs: shutdownTimeoutMs,
    })
    const { forced } = await group.close({ deadlineMs: shutdownTimeoutMs })
    jsonLinesLog(
      forced ? 'error' : 'info',
      forced ? 'shutdown deadline passed; exiting with jobs in flight' : 'stopped',
    )
    process.exit(forced ? 1 : 0)
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
  await started
}

main().catch((error: unknown) => {
  jsonLinesLog('error', 'worker failed to start', {
    error: error instanceof Error ? error.message : String(error),
  })
  process.exit(2)
})
