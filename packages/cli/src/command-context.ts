import { describeRedis, errorCode, openRedis, waitForRedis } from '@cachesaga/common'
import { type Cache, createCache } from '@cachesaga/core'
import type { Command } from 'commander'
import type { Redis } from 'ioredis'
import type { z } from 'zod'
import { flagName, parseInput } from './config/flags.js'
import type { Globals } from './config/globals.js'
import { CliError } from './errors.js'
import type { CliIo } from './io.js'

/** How long a command waits for Redis to accept its connection, and for each command's reply. */
const CONNECT_TIMEOUT_MS = 5_000
const COMMAND_TIMEOUT_MS = 5_000

/** What a command's action works with; every connection it opens is closed after the action. */
export class CommandContext {
  private connection: Promise<Redis> | undefined
  private openedCache: Cache | undefined

  constructor(
    readonly globals: Globals,
    readonly io: CliIo,
    private readonly command: Command,
  ) {}

  /** The command's flags and arguments (plus its parents' flags), parsed with `schema`; errors name the flag. */
  input<S extends z.ZodType>(schema: S): z.output<S> {
    const values: Record<string, unknown> = { ...this.command.optsWithGlobals() }
    const names: Record<string, string> = {}
    this.command.registeredArguments.forEach((argument, index) => {
      values[argument.name()] = this.command.processedArgs[index]
      names[argument.name()] = `<${argument.name()}>`
    })
    for (const key of Object.keys(values)) names[key] ??= flagName(key)
    return parseInput(schema, values, names)
  }

  get redisUrl(): string {
    const url = this.globals.redisUrl
    if (url === undefined)
      throw new CliError('CLI_ERR_USAGE', '--redis: no Redis given; pass --redis <url> or set REDIS_URL')
    return url
  }

  /**
   * A connection that fails fast instead of retrying: an operator would rather read "cannot reach Redis"
   * (CS_ERR_REDIS_UNREACHABLE, naming the URL without its password) than watch a command hang.
   */
  redis(): Promise<Redis> {
    this.connection ??= (async () => {
      const url = this.redisUrl
      const client = openRedis(url, {
        commandTimeoutMs: COMMAND_TIMEOUT_MS,
        maxRetriesPerRequest: 1,
        lazyConnect: true,
        reconnect: false,
      }) as Redis
      client.on('error', () => {})
      try {
        await waitForRedis(client, { timeoutMs: CONNECT_TIMEOUT_MS, target: describeRedis(url) })
        return client
      } catch (error) {
        client.disconnect()
        throw error
      }
    })()
    return this.connection
  }

  /** The cache named by `--namespace` (and `--tenant`), on the same Redis. */
  async cache(): Promise<Cache> {
    if (this.openedCache) return this.openedCache
    const { namespace, tenant } = this.globals
    if (namespace === undefined) throw new CliError('CLI_ERR_USAGE', '--namespace: required by this command')
    await this.redis()
    try {
      this.openedCache = createCache({
        namespace,
        ...(tenant !== undefined && { tenant }),
        redis: this.redisUrl,
        // The CLI has no traffic of its own: it reads the live instances' snapshots, it writes none.
        snapshotEvery: false,
      })
    } catch (error) {
      // Core validates the names; say which flag carried the bad one.
      const details = (error as { details?: { field?: unknown; reason?: unknown } }).details
      if (
        errorCode(error) === 'CS_ERR_INVALID_OPTION' &&
        (details?.field === 'namespace' || details?.field === 'tenant')
      ) {
        throw new CliError('CLI_ERR_USAGE', `--${details.field}: ${String(details.reason)}`, { cause: error })
      }
      throw error
    }
    return this.openedCache
  }

  get namespaceLabel(): string {
    const { namespace, tenant } = this.globals
    return tenant === undefined ? `namespace ${namespace}` : `namespace ${namespace}, tenant ${tenant}`
  }

  async close(): Promise<void> {
    await this.openedCache?.close()
    const connection = await this.connection?.catch(() => undefined)
    connection?.disconnect()
  }
}
