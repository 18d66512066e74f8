import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { chmod, mkdir, mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import pg from 'pg'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type PostgresServer, startPostgres, TestkitError } from './index.js'
import { letPostgresUserReach } from './postgres.js'

const run = promisify(execFile)

async function query<Row extends pg.QueryResultRow>(url: string, sql: string): Promise<Row[]> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return (await client.query<Row>(sql)).rows
  } finally {
    await client.end()
  }
}

describe('startPostgres', () => {
  let server: PostgresServer

  beforeAll(async () => {
    server = await startPostgres({ allowExternal: false })
  })
  afterAll(async () => {
    await server.stop()
  })

  it('starts a private server that answers queries over TCP', async () => {
    expect(server.owned).toBe(true)
    const rows = await query<{ answer: number }>(server.url, 'SELECT 6 * 7 AS answer')
    expect(rows).toEqual([{ answer: 42 }])
  })

  const durability = (url: string) =>
    query(
      url,
      `SELECT current_setting('fsync') AS fsync, current_setting('synchronous_commit') AS synchronous_commit,
         current_setting('full_page_writes') AS full_page_writes`,
    )

  it('runs without fsync, synchronous commits and full-page writes, unless asked to be durable', async () => {
    expect(await durability(server.url)).toEqual([
      { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' },
    ])
    const durable = await startPostgres({ allowExternal: false, durable: true })
    try {
      expect(await durability(durable.url)).toEqual([
        { fsync: 'on', synchronous_commit: 'on', full_page_writes: 'on' },
      ])
    } finally {
      await durable.stop()
    }
  }, 90_000)

  describe('databases per test file', () => {
    it('creates an empty database with a unique name that accepts tables', async () => {
      const first = await server.createDatabase('bookings')
      const second = await server.createDatabase('bookings')
      try {
        expect(first.name).toMatch(/^bookings_[0-9a-f]{8}$/)
        expect(second.name).not.toBe(first.name)
        await query(first.url, 'CREATE TABLE slot (id int PRIMARY KEY)')
        await query(first.url, 'INSERT INTO slot VALUES (1)')
        expect(await query(first.url, 'SELECT id FROM slot')).toEqual([{ id: 1 }])
        const tables = await query(second.url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        expect(tables).toEqual([])
      } finally {
        await first.drop()
        await second.drop()
      }
    })

    it('drops a database even while a client is still connected to it', async () => {
      const database = await server.createDatabase('dropped')
      const lingering = new pg.Client({ connectionString: database.url })
      lingering.on('error', () => {})
      await lingering.connect()
      await database.drop()
      const names = await query<{ datname: string }>(server.url, 'SELECT datname FROM pg_database')
      expect(names.map((row) => row.datname)).not.toContain(database.name)
      await lingering.end().catch(() => {})
    })

    it('rejects a label that is not a plain identifier, naming the field', async () => {
      const attempt = server.createDatabase('Robert"; DROP')
      await expect(attempt).rejects.toBeInstanceOf(TestkitError)
      await expect(attempt).rejects.toThrow(/createDatabase\.label/)
    })
  })

  describe('DATABASE_URL', () => {
    const saved = process.env.DATABASE_URL
    afterEach(() => {
      if (saved === undefined) delete process.env.DATABASE_URL
      else process.env.DATABASE_URL = saved
    })

    it('is used as is, and stopping the handle leaves that server running', async () => {
      process.env.DATABASE_URL = server.url
      const external = await startPostgres()
      expect(external.owned).toBe(false)
      expect(external.url).toBe(server.url)
      expect(external.directory).toBeUndefined()
      await external.stop()
      expect(await query(server.url, 'SELECT 1 AS one')).toEqual([{ one: 1 }])
    })

    it('is refused with the variable named when it is not a postgres URL', async () => {
      process.env.DATABASE_URL = 'redis://127.0.0.1:6379'
      await expect(startPostgres()).rejects.toThrow(/env\.DATABASE_URL/)
    })
  })
})

describe('startPostgres lifecycle', () => {
  it('removes its temporary directory on stop, and a second stop is harmless', async () => {
    const server = await startPostgres({ allowExternal: false })
    const directory = server.directory
    expect(directory && existsSync(directory)).toBe(true)
    await server.stop()
    await server.stop()
    expect(existsSync(directory ?? '')).toBe(false)
  })

  // As root the server runs as the `postgres` user; the other case (a normal user) is checked by
  // running the same round trip as `nobody`.
  it.runIf(process.getuid?.() === 0)('works for a normal user as well as for root', async () => {
    const { stdout: uid } = await run('id', ['-u', 'nobody'])
    const { stdout: gid } = await run('id', ['-g', 'nobody'])
    const script = new URL('./test-support/postgres-round-trip.ts', import.meta.url).pathname
    const { DATABASE_URL: _external, ...env } = process.env
    const { stdout } = await run(process.execPath, ['--import', 'tsx', script], {
      uid: Number(uid),
      gid: Number(gid),
      cwd: new URL('..', import.meta.url).pathname,
      env,
    })
    expect(JSON.parse(stdout)).toEqual({ answer: 42, directoryLeft: false })
  })
})

describe('letPostgresUserReach', () => {
  it('lets other users through private ancestors without letting them list them', async () => {
    const root = await mkdtemp(join(tmpdir(), 'cachesaga-reach-'))
    const inner = join(root, 'checkout', 'node_modules')
    await mkdir(inner, { recursive: true, mode: 0o700 })
    await chmod(join(root, 'checkout'), 0o700)
    await chmod(root, 0o700)
    try {
      await letPostgresUserReach(inner)
      for (const dir of [root, join(root, 'checkout'), inner]) {
        const mode = (await stat(dir)).mode & 0o777
        expect(mode & 0o001, `${dir} searchable by others`).toBe(0o001)
        expect(mode & 0o004, `${dir} not listable by others`).toBe(0)
      }
    } finally {
      await rm(root, { recursive: true, force: true })
    }
  })
})
