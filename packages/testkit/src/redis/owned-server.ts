import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Redis } from 'ioredis'
import { z } from 'zod'
import { requireBinary } from '../binaries.js'
import { TestkitError } from '../errors.js'
import { eventually } from '../eventually.js'
import { parseInput } from '../parse-input.js'
import type { AclUsers } from './acl.js'
import { CONTROL_TIMEOUT_MS, withConnection } from './admin.js'
import { aclUserSchema, type RedisAclUser, type RedisPersistence } from './options.js'
import {
  clearDataset,
  installSnapshot,
  persistenceArgs,
  type RedisSnapshot,
  saveAside,
} from './persistence.js'
import type { RedisServer, RestartOptions } from './server.js'

const START_TIMEOUT_MS = 10_000
const PING_TIMEOUT_MS = 1_000
/** How much of the server's output an error quotes. */
const OUTPUT_TAIL = 8_192

const restartSchema = z.strictObject({
  from: z
    .union([
      z.enum(['empty', 'disk']),
      // Not strict: a snapshot handle is passed as it is.
      z.object({ file: z.string().min(1), takenAt: z.date() }),
    ])
    .default('disk'),
})

export interface OwnedServerConfig {
  /** Port to bind on loopback. */
  port: number
  persistence: RedisPersistence
  /** The users of this server (shared by every node of a cluster). */
  users: AclUsers
  /** Arguments after the harness's own: a cluster's, then the caller's. */
  args: string[]
  /** Every server that shares `users` (a cluster's nodes): `createUser()` on one creates the user on all. */
  group?: () => readonly OwnedRedisServer[]
}

/**
 * A `redis-server` child process the harness owns, with its fault controls. Its temporary directory holds
 * `data/` (the server's `--dir`: RDB, AOF, a cluster node's `nodes.conf`) and `snapshots/`.
 */
export class OwnedRedisServer implements RedisServer {
  readonly host = '127.0.0.1'
  readonly owned = true
  readonly port: number
  private readonly dataDir: string
  private readonly snapshotDir: string
  private child: ChildProcess | undefined
  private status: 'running' | 'paused' | 'down' | 'stopped' = 'down'
  private snapshots = 0

  private constructor(
    private readonly config: OwnedServerConfig,
    private readonly root: string,
  ) {
    this.port = config.port
    this.dataDir = join(root, 'data')
    this.snapshotDir = join(root, 'snapshots')
    mkdirSync(this.dataDir)
    mkdirSync(this.snapshotDir)
  }

  /** Creates the directory and starts the process; on failure nothing is left behind. */
  static async start(config: OwnedServerConfig): Promise<OwnedRedisServer> {
    const server = new OwnedRedisServer(config, mkdtempSync(join(tmpdir(), 'cachesaga-redis-')))
    try {
      await server.launch()
    } catch (error) {
      rmSync(server.root, { recursive: true, force: true })
      throw error
    }
    return server
  }

  get url(): string {
    return this.urlFor('default')
  }

  /** `running`, `paused` (SIGSTOP), `down` (killed, not restarted yet) or `stopped`. */
  get state(): 'running' | 'paused' | 'down' | 'stopped' {
    return this.status
  }

  urlFor(user: string): string {
    return this.config.users.urlFor(this.host, this.port, user)
  }

  /** Runs `use` on a fresh connection as the harness's admin user. */
  admin<T>(use: (client: Redis) => Promise<T>, timeoutMs = CONTROL_TIMEOUT_MS): Promise<T> {
    return withConnection(this, this.config.users.admin, use, timeoutMs)
  }

  private async launch(overrides: string[] = []): Promise<void> {
    const args = [
      '--port',
      String(this.port),
      '--bind',
      this.host,
      '--protected-mode',
      'no',
      '--dir',
      this.dataDir,
      '--logfile',
      '',
      '--loglevel',
      'warning',
      ...persistenceArgs(this.config.persistence),
      ...this.config.users.serverArgs(),
      ...this.config.args,
      ...overrides,
    ]
    const child = spawn(requireBinary('redis-server'), args, { stdio: ['ignore', 'pipe', 'pipe'] })
    this.child = child
    // Redis reports bad arguments on stderr but most start-up failures (a bad ACL rule) in its log, which is
    // stdout here; keep the tail of both for the error, and keep draining them so a full pipe never stalls it.
    let output = ''
    const collect = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-OUTPUT_TAIL)
    }
    child.stdout?.on('data', collect)
    child.stderr?.on('data', collect)
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()))
    // A server that dies by itself is down too, so a cluster stops counting it as running.
    child.once('exit', () => {
      if (this.child === child && this.status !== 'stopped') this.status = 'down'
    })
    try {
      await eventually(
        `redis-server on port ${this.port} answering PING`,
        () => this.admin(async (client) => (await client.ping()) === 'PONG', PING_TIMEOUT_MS),
        {
          timeoutMs: START_TIMEOUT_MS,
          giveUp: () =>
            child.exitCode === null
              ? undefined
              : new Error(`redis-server exited with code ${child.exitCode}`),
        },
      )
    } catch (error) {
      child.kill('SIGKILL')
      await closed
      throw new TestkitError('TESTKIT_ERR_SERVER_START', `${(error as Error).message}\n${output}`, {
        cause: error,
        details: { port: this.port },
      })
    }
    this.status = 'running'
  }

  private async exit(signal: NodeJS.Signals): Promise<void> {
    const child = this.child
    if (!child || child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    // A stopped process only acts on SIGKILL; wake it so any signal works.
    child.kill('SIGCONT')
    child.kill(signal)
    await exited
  }

  async kill(): Promise<void> {
    await this.exit('SIGKILL')
    if (this.status !== 'stopped') this.status = 'down'
  }

  async restart(options: RestartOptions = {}): Promise<void> {
    const { from } = parseInput(restartSchema, options, 'restart.options')
    if (this.status === 'stopped') {
      throw new TestkitError('TESTKIT_ERR_INVALID_INPUT', `redis-server on port ${this.port} was stopped`)
    }
    if (typeof from === 'object' && !existsSync(from.file)) {
      throw new TestkitError(
        'TESTKIT_ERR_INVALID_INPUT',
        `restart.options.from: no snapshot at ${from.file}`,
        {
          details: { file: from.file },
        },
      )
    }
    await this.kill()
    if (typeof from === 'object') {
      installSnapshot(this.dataDir, from)
    } else if (from === 'empty' || this.config.persistence === 'none') {
      // Without persistence nothing on disk counts, not even a file a SAVE left behind.
      clearDataset(this.dataDir)
    }
    // Redis with appendonly on ignores an RDB and starts empty when it has no AOF, so a snapshot is loaded
    // with the AOF off, and the AOF is then rebuilt from the loaded dataset.
    const rebuildAof = typeof from === 'object' && this.config.persistence === 'aof'
    await this.launch(rebuildAof ? ['--appendonly', 'no'] : [])
    if (rebuildAof) await this.rebuildAof()
  }

  private async rebuildAof(): Promise<void> {
    await this.admin((client) => client.config('SET', 'appendonly', 'yes'))
    await eventually(
      `the AOF of port ${this.port} rebuilt from the snapshot`,
      () =>
        this.admin(async (client) => {
          const info = await client.info('persistence')
          return ['aof_enabled:1', 'aof_rewrite_in_progress:0', 'aof_rewrite_scheduled:0'].every((line) =>
            info.includes(line),
          )
        }),
      { timeoutMs: START_TIMEOUT_MS },
    )
  }

  pause(): void {
    if (this.status !== 'running') return
    this.child?.kill('SIGSTOP')
    this.status = 'paused'
  }

  resume(): void {
    if (this.status !== 'paused') return
    this.child?.kill('SIGCONT')
    this.status = 'running'
  }

  async killPubSubClients(): Promise<number> {
    return (await this.admin((client) => client.call('CLIENT', 'KILL', 'TYPE', 'pubsub'))) as number
  }

  async save(): Promise<void> {
    if (this.config.persistence === 'none') {
      throw new TestkitError(
        'TESTKIT_ERR_INVALID_INPUT',
        "save() has no effect with persistence 'none' (a restart always comes back empty); " +
          "start the server with persistence 'rdb' or 'aof', or take a snapshot()",
      )
    }
    await this.admin((client) => client.call('SAVE'))
  }

  async snapshot(): Promise<RedisSnapshot> {
    const file = join(this.snapshotDir, `${++this.snapshots}.rdb`)
    await saveAside(this.dataDir, file, async () => {
      await this.admin((client) => client.call('SAVE'))
    })
    return { file, takenAt: new Date() }
  }

  async createUser(user: RedisAclUser): Promise<void> {
    const parsed = parseInput(aclUserSchema, user, 'createUser.user')
    const group = this.config.group?.() ?? [this]
    const paused = group.filter((server) => server.status === 'paused').map(({ port }) => port)
    if (paused.length > 0) {
      throw new TestkitError(
        'TESTKIT_ERR_INVALID_INPUT',
        `createUser needs every server awake; port ${paused.join(', ')} is paused`,
        { details: { paused } },
      )
    }
    this.config.users.add(parsed)
    // A server that is down gets the user from its arguments when it restarts.
    const running = group.filter((server) => server.status === 'running')
    await Promise.all(
      running.map((server) =>
        server.admin((client) => client.call('ACL', 'SETUSER', ...this.config.users.setUserArgs(parsed))),
      ),
    )
  }

  async stop(): Promise<void> {
    if (this.status === 'stopped') return
    this.status = 'stopped'
    // Its data is thrown away, so there is nothing to shut down cleanly (and a master would wait for replicas).
    await this.exit('SIGKILL')
    rmSync(this.root, { recursive: true, force: true })
  }
}
