import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase, type TestDatabase } from '../test-support/test-database.js'
import { migrate } from './migrate.js'

let db: TestDatabase
let directory: string
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'booking-migrations-'))
  db = await createTestDatabase('migrate')
})
afterAll(async () => {
  await rm(directory, { recursive: true, force: true })
  await db?.drop()
})

async function appliedVersions(): Promise<string[]> {
  const { rows } = await db.pool.query<{ version: string }>(
    'SELECT version FROM schema_migrations ORDER BY 1',
  )
  return rows.map((row) => row.version)
}

describe('the migration runner', () => {
  it("records each of the app's migrations, so running it again applies nothing", async () => {
    const files = await readdir(fileURLToPath(new URL('../../migrations/', import.meta.url)))
    expect(await appliedVersions()).toEqual(files.map((name) => name.slice(0, 3)).sort())
    expect(await migrate(db.pool)).toEqual([])
  })

  it('applies the files it has not seen, in the order of their versions', async () => {
    await writeFile(join(directory, '902_fill.sql'), 'INSERT INTO migration_probe VALUES (2)')
    await writeFile(join(directory, '901_create.sql'), 'CREATE TABLE migration_probe (n int)')
    expect(await migrate(db.pool, directory)).toEqual(['901', '902'])
    await writeFile(join(directory, '903_more.sql'), 'INSERT INTO migration_probe VALUES (3)')
    expect(await migrate(db.pool, directory)).toEqual(['903'])
    const { rows } = await db.pool.query<{ n: number }>('SELECT n FROM migration_probe ORDER BY n')
    expect(rows.map((row) => row.n)).toEqual([2, 3])
  })

  it('leaves the schema as it was when a pending file fails, naming the file', async () => {
    await writeFile(join(directory, '904_good.sql'), 'INSERT INTO migration_probe VALUES (4)')
    await writeFile(join(directory, '905_broken.sql'), 'INSERT INTO no_such_table VALUES (5)')
    await expect(migrate(db.pool, directory)).rejects.toMatchObject({
      code: 'BOOKING_ERR_MIGRATION',
      message: expect.stringContaining('905_broken.sql'),
    })
    expect(await appliedVersions()).not.toContain('904')
    const { rows } = await db.pool.query('SELECT 1 FROM migration_probe WHERE n = 4')
    expect(rows).toHaveLength(0)
  })

  it('refuses a file whose name has no version', async () => {
    await rm(join(directory, '905_broken.sql'))
    await writeFile(join(directory, 'cleanup.sql'), 'SELECT 1')
    await expect(migrate(db.pool, directory)).rejects.toMatchObject({ code: 'BOOKING_ERR_MIGRATION' })
  })
})
