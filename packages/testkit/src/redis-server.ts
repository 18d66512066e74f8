import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { getFreePort } from './free-port.js'

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

let redisServerBinary: string | undefined

function findRedisServer(): string {
  if (redisServerBinary) return redisServerBinary
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' })
  if (probe.error || probe.status !== 0) {
    throw new Error(
      'redis-server was not found on PATH. Install it (Debian: `apt-get install -y redis-server`) ' +
        'or point the tests at a server with REDIS_URL=redis://host:port.',
    )
  }
  redisServerBinary = 'redis-server'
  return redisServerBinary
}

async function waitForPing(port: number, child: ChildProcess, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let lastError: unknown
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode}`)
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
      if ((await client.ping()) === 'PONG') return
    } catch (error) {
      lastError = error
    } finally {
      client.disconnect()
    }
    await new Promise((r) => setTimeout(r, 20))
  }
  throw new Error(
    `redis-server on port ${port} did not answer PING within ${timeoutMs} ms: ${String(lastError)}`,
  )
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
      findRedisServer(),
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
      await waitForPing(this.port, child)
    } catch (error) {
      child.kill('SIGKILL')
      throw new Error(`${(error as Error).message}\n${stderr}`)
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
    throw new Error(
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
  const external = process.env.REDIS_URL
  if (external && options.allowExternal !== false) return new ExternalRedisServer(external)
  const port = options.port ?? (await getFreePort())
  const dir = mkdtempSync(join(tmpdir(), 'cachesaga-redis-'))
  const server = new OwnedRedisServer(port, dir, options.args ?? [])
  await server.start()
  return server
}
