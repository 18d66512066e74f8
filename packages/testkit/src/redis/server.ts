import { z } from 'zod'
import { TestkitError } from '../errors.js'
import { getFreePort } from '../free-port.js'
import { envUrl, parseInput } from '../parse-input.js'
import { AclUsers } from './acl.js'
import { needsOwnedServer, nodeOptionsShape, type RedisAclUser, type RedisNodeOptions } from './options.js'
import { OwnedRedisServer } from './owned-server.js'
import type { RedisSnapshot, RestartFrom } from './persistence.js'

export interface StartRedisOptions extends RedisNodeOptions {
  /** Port to bind; a free one is chosen when omitted. */
  port?: number
  /**
   * Use `REDIS_URL` when it is set instead of starting a server. Fault controls are then unavailable.
   * Defaults to true, except when `persistence`, `password` or `users` ask for what only a private server
   * gives; tests that kill or pause the server pass false.
   */
  allowExternal?: boolean
}

export interface RestartOptions {
  /**
   * What the server comes back with. `'disk'` (default): what its persistence kept (nothing under
   * `'none'`, the last `save()` under `'rdb'`, every acknowledged write under `'aof'`). `'empty'`: nothing,
   * whatever the persistence. A `snapshot()`: the dataset as it was when that snapshot was taken (a Redis
   * rolled back); under `'aof'` the AOF is rebuilt from it, so a later restart from disk keeps it.
   */
  from?: RestartFrom
}

const optionsSchema = z.strictObject({
  ...nodeOptionsShape,
  port: z.int().min(1).max(65_535).optional(),
  allowExternal: z.boolean().optional(),
})
const envSchema = z.object({ REDIS_URL: envUrl(/^rediss?$/) })

/** A Redis server for one test file: either a private `redis-server` child or an external `REDIS_URL`. */
export interface RedisServer {
  readonly host: string
  readonly port: number
  /** URL of the `default` user, with its password when it has one. */
  readonly url: string
  /** True when this handle owns the process (fault controls work). */
  readonly owned: boolean
  /** URL that logs in as `user` (`'default'` or a named ACL user); throws for an unknown user. */
  urlFor(user: string): string
  /** SIGKILL the server. What it comes back with depends on the persistence; see `restart()`. */
  kill(): Promise<void>
  /** Kills the server if it runs, then starts it again on the same port, with the same users. */
  restart(options?: RestartOptions): Promise<void>
  /** SIGSTOP: the socket stays open but nothing answers. */
  pause(): void
  /** SIGCONT after `pause()`. */
  resume(): void
  /** `CLIENT KILL TYPE pubsub`: drops every subscriber connection. Returns how many were killed. */
  killPubSubClients(): Promise<number>
  /**
   * `SAVE`: resolves once the dataset is on disk. Under `'rdb'` this is what a restart from disk loads;
   * under `'aof'` the AOF already holds every write. Refused under `'none'`, where nothing survives a restart.
   */
  save(): Promise<void>
  /**
   * A copy of the dataset as it is now (an RDB file the harness keeps until `stop()`), for
   * `restart({ from: snapshot })`. Works under every persistence and leaves the server's own files alone.
   */
  snapshot(): Promise<RedisSnapshot>
  /** Creates an ACL user now (`ACL SETUSER`); restarts keep it. `urlFor(user.name)` then logs in as it. */
  createUser(user: RedisAclUser): Promise<void>
  /** Stops the server and removes its directory and snapshots. Safe to call twice. */
  stop(): Promise<void>
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
      'fault controls and ACL users need a redis-server started by the harness; call startRedis({ allowExternal: false })',
    )
  }

  urlFor(user: string): string {
    if (user === 'default') return this.url
    this.unavailable()
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
  save(): Promise<void> {
    this.unavailable()
  }
  snapshot(): Promise<RedisSnapshot> {
    this.unavailable()
  }
  createUser(): Promise<void> {
    this.unavailable()
  }
  async stop(): Promise<void> {}
}

/**
 * Starts a throwaway `redis-server` on a free loopback port (persistence off unless asked), or returns
 * `REDIS_URL` when set and the options allow it. Never touches 6379 by itself.
 */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  const parsed = parseInput(optionsSchema, options, 'startRedis.options')
  const ownedOnly = needsOwnedServer(parsed)
  if (parsed.allowExternal === true && ownedOnly) {
    throw new TestkitError(
      'TESTKIT_ERR_INVALID_INPUT',
      'startRedis.options.allowExternal: persistence, password and users need a private server',
    )
  }
  const { REDIS_URL } = parseInput(envSchema, process.env, 'env')
  if (REDIS_URL && parsed.allowExternal !== false && !ownedOnly) return new ExternalRedisServer(REDIS_URL)
  return OwnedRedisServer.start({
    port: parsed.port ?? (await getFreePort()),
    persistence: parsed.persistence,
    users: new AclUsers(parsed.password, parsed.users),
    args: parsed.args,
  })
}
