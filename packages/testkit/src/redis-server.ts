import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { z } from 'zod'
import { requireBinary } from './binaries.js'
import { TestkitError } from './errors.js'
import { getFreePort } from './free-port.js'
import { envUrl, parseInput } from './parse-input.js'
import { waitUntil } from './wait-until.js'

export interface StartRedisOptions {
  /** Extra `redis-server` arguments, e.g. `['--maxmemory-policy', 'noeviction']`. */
  args?: string[]
  /** Port to bind; a free one is chosen when omitted. */
  port?: number
  /**
   * Use `REDIS_URL` when it is set instead of starting a server. Fault controls are then unavailable.
   * Defaults to true; tests that kill or pause the server pass false.
   */
  allowExternal?: boolean
}

const optionsSchema = z.strictObject({
  args: z.array(z.string()).default([]),
  port: z.int().min(1).max(65_535).optional(),
  allowExternal: z.boolean().default(true),
})
const envSchema = z.object({ REDIS_URL: envUrl(/^rediss?$/) })

const START_TIMEOUT_MS = 10_000

/** A Redis server for one test file: either a private `redis-server` child or an external `REDIS_URL`. */
export interface RedisServer {
  readonly host: string
  readonly port: number
  readonly url: string
  /** True when this handle owns the process (fault controls work). */
  readonly owned: boolean
  /** SIGKILL the server: in-memory data is lost (persistence is off). */
  kill(): Promise<void>
  /** Start it again on the same port after `kill()`. */
  restart(): Promise<void>
  /** SIGSTOP: the socket stays open but nothing answers. */
  pause(): void
  /** SIGCONT after `pause()`. */
  resume(): void
  /** `CLIENT KILL TYPE pubsub`: drops every subscriber connection. Returns how many were killed. */
  killPubSubClients(): Promise<number>
  /** Stops the server and removes its directory. Safe to call twice. */
  stop(): Promise<void>
}

async function pingOnce(port: number): Promise<boolean> {
  const client = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  })
  client.on('error', () => {})
  try {
    await client.connect()
    return (await client.ping()) === 'PONG'
  } finally {
    client.disconnect()
  }
}

class OwnedRedisServer implements RedisServer {
  readonly host = '127.0.0.1'
  readonly owned = true
  private child: ChildProcess | undefined
  private stopped = false

  constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly args: string[],
  ) {}

  get url(): string {
    return `redis://${this.host}:${this.port}`
  }

  async start(): Promise<void> {
    const child = spawn(
      requireBinary('redis-server'),
      [
        '--port',
        String(this.port),
        '--bind',
        this.host,
        '--save',
        '',
        '--appendonly',
        'no',
        '--protected-mode',
        'no',
        '--dir',
        this.dir,
        '--logfile',
        '',
        '--loglevel',
        'warning',
        ...this.args,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    )
    this.child = child
    let stderr = ''
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    try {
      await waitUntil(`redis-server on port ${this.port} answering PING`, () => pingOnce(this.port), {
        timeoutMs: START_TIMEOUT_MS,
        hopeless: () =>
          child.exitCode === null ? undefined : new Error(`redis-server exited with code ${child.exitCode}`),
      })
    } catch (error) {
      child.kill('SIGKILL')
      throw new TestkitError('TESTKIT_ERR_SERVER_START', `${(error as Error).message}\n${stderr}`, {
        cause: error,
      })
    }
  }

  private async exit(signal: NodeJS.Signals): Promise<void> {
    const child = this.child
    if (!child || child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    // A stopped process only acts on SIGKILL; wake it so SIGTERM works too.
    child.kill('SIGCONT')
    child.kill(signal)
    await exited
  }

  async kill(): Promise<void> {
    await this.exit('SIGKILL')
  }

  async restart(): Promise<void> {
    await this.kill()
    await this.start()
  }

  pause(): void {
    this.child?.kill('SIGSTOP')
  }

  resume(): void {
    this.child?.kill('SIGCONT')
  }

  async killPubSubClients(): Promise<number> {
    const admin = new Redis({ port: this.port, host: this.host, maxRetriesPerRequest: 1 })
    try {
      return (await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub')) as number
    } finally {
      admin.disconnect()
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    await this.exit('SIGTERM')
    rmSync(this.dir, { recursive: true, force: true })
  }
}

class ExternalRedisServer implements RedisServer {
  readonly owned = false
  readonly host: string
  readonly port: number

  constructor(readonly url: string) {
    const parsed = new URL(url)
    this.host = parsed.hostname
    this.port = Number(parsed.port || 6379)
  }

  private unavailable(): never {
    throw new TestkitError(
      'TESTKIT_ERR_EXTERNAL_SERVER',
      'fault controls need a redis-server started by the harness; call startRedis({ allowExternal: false })',
    )
  }

  kill(): Promise<void> {
    this.unavailable()
  }
  restart(): Promise<void> {
    this.unavailable()
  }
  pause(): void {
    this.unavailable()
  }
  resume(): void {
    this.unavailable()
  }
  killPubSubClients(): Promise<number> {
    this.unavailable()
  }
  async stop(): Promise<void> {}
}

/**
 * Starts a throwaway `redis-server` on a free loopback port with persistence off,
 * or returns `REDIS_URL` when set and `allowExternal` is not false. Never touches 6379 by itself.
 */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  const { args, port, allowExternal } = parseInput(optionsSchema, options, 'startRedis.options')
  const { REDIS_URL } = parseInput(envSchema, process.env, 'env')
  if (REDIS_URL && allowExternal) return new ExternalRedisServer(REDIS_URL)
  const dir = mkdtempSync(join(tmpdir(), 'cachesaga-redis-'))
  const server = new OwnedRedisServer(port ?? (await getFreePort()), dir, args)
  try {
    await server.start()
  } catch (error) {
    rmSync(dir, { recursive: true, force: true })
    throw error
  }
  return server
}
