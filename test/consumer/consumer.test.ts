// The packages as a company installs them: packed, installed with npm into a project outside the workspace,
// with the lowest versions of their peer dependencies. Needs the npm registry (for the peers and tools).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  type PostgresServer,
  type RedisServer,
  startPostgres,
  startRedis,
  type TestDatabase,
} from '@cachesaga/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ConsumerProject, createConsumerProject } from './consumer-project.js'
import { type ReadmeExample, readmeExamples } from './examples.js'
import { missingFiles } from './shipped-files.js'
import { pack, publishablePackages } from './workspace-packages.js'

const packages = publishablePackages()
let project: ConsumerProject
let packDir: string

beforeAll(async () => {
  packDir = mkdtempSync(join(tmpdir(), 'cachesaga-packs-'))
  const tarballs = await Promise.all(packages.map((pkg) => pack(pkg, packDir)))
  project = await createConsumerProject(tarballs)
}, 600_000)

afterAll(() => {
  rmSync(packDir, { recursive: true, force: true })
  if (project) rmSync(project.dir, { recursive: true, force: true })
})

const installed = (name: string) => join(project.dir, 'node_modules', name)

describe('what ships', () => {
  it.each(packages.map((pkg) => [pkg.name]))(
    '%s ships every file its exports, bin and README name',
    (name) => {
      expect(missingFiles(installed(name))).toEqual([])
    },
  )

  it.each(packages.map((pkg) => [pkg.name]))(
    '%s ships no source maps pointing at sources it does not ship',
    async (name) => {
      const { stdout } = await project.exec('find', [installed(name), '-name', '*.map'])
      expect(stdout.trim()).toBe('')
    },
  )
})

describe('a strict TypeScript app (NodeNext)', () => {
  it('typechecks against the installed packages, and so do the README examples', async () => {
    writeFileSync(
      join(project.dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'nodenext',
          moduleResolution: 'nodenext',
          strict: true,
          noUncheckedIndexedAccess: true,
          exactOptionalPropertyTypes: false,
          noEmit: true,
          skipLibCheck: true,
          types: ['node'],
        },
        include: ['src', 'examples'],
      }),
    )
    writeFileSync(join(project.dir, 'src/app.ts'), APP)
    writeFileSync(join(project.dir, 'src/require-app.cts'), REQUIRE_APP)
    mkdirSync(join(project.dir, 'examples'), { recursive: true })
    readmeExamples()
      .filter((example) => example.language === 'ts')
      .forEach((example, index) => {
        writeFileSync(join(project.dir, 'examples', `example-${index}.ts`), example.source)
      })
    const result = await project.exec('npx', ['tsc', '-p', '.']).catch((error: { stdout: string }) => error)
    expect(result.stdout).toBe('')
  })
})

describe('CommonJS', () => {
  it('require() loads every package (Node >= 20.19 requires ES modules)', async () => {
    const names = packages.map((pkg) => pkg.name)
    writeFileSync(
      join(project.dir, 'smoke.cjs'),
      `for (const name of ${JSON.stringify(names)}) {\n  const loaded = require(name)\n  console.log(name, Object.keys(loaded).length > 0)\n}\n`,
    )
    const { stdout } = await project.exec(process.execPath, ['smoke.cjs'])
    expect(stdout).toBe(names.map((name) => `${name} true\n`).join(''))
  })
})

describe('the executables', () => {
  it('cachesaga and cachesaga-worker answer --version with their package version', async () => {
    for (const [bin, name] of [
      ['cachesaga', '@cachesaga/cli'],
      ['cachesaga-worker', '@cachesaga/queue'],
    ] as const) {
      const { stdout } = await project.exec(join(project.dir, 'node_modules/.bin', bin), ['--version'])
      expect(stdout.trim()).toBe(packages.find((pkg) => pkg.name === name)!.manifest.version)
    }
  })
})

describe('the README examples, run from the installed packages', () => {
  let postgres: PostgresServer | undefined
  let durablePostgres: PostgresServer | undefined
  const databases: TestDatabase[] = []
  const servers: RedisServer[] = []

  afterAll(async () => {
    await Promise.all(databases.map((database) => database.drop()))
    await postgres?.stop()
    await durablePostgres?.stop()
    await Promise.all(servers.map((server) => server.stop()))
  })

  async function environment(example: ReadmeExample): Promise<Record<string, string>> {
    const env: Record<string, string> = {}
    if (example.needs.includes('redis') || example.needs.includes('durable-redis')) {
      // A private server each: examples use fixed names, and the saga runner wants an append-only file.
      const server = await startRedis({
        allowExternal: false,
        persistence: example.needs.includes('durable-redis') ? 'aof' : 'none',
      })
      servers.push(server)
      env.REDIS_URL = server.url
    }
    if (example.needs.includes('postgres') || example.needs.includes('durable-postgres')) {
      // A database each: examples create tables of the same names.
      let server: PostgresServer
      if (example.needs.includes('durable-postgres')) {
        durablePostgres ??= await startPostgres({ allowExternal: false, durable: true })
        server = durablePostgres
      } else {
        postgres ??= await startPostgres()
        server = postgres
      }
      const database = await server.createDatabase(`consumer_example_${databases.length}`)
      databases.push(database)
      env.DATABASE_URL = database.url
    }
    return env
  }

  it.each(readmeExamples().map((example) => [`${example.packageName}: ${example.label}`, example]))(
    '%s',
    async (_, example) => {
      const env = await environment(example)
      let output: string
      if (example.language === 'ts') {
        const path = join(project.dir, `run-${Math.random().toString(36).slice(2)}.ts`)
        writeFileSync(path, example.source)
        output = (await project.exec(process.execPath, ['--import', 'tsx', path], env)).stdout
      } else {
        // The CLI's session works on entries an application cached before: cache them with the installed core.
        const seed = join(project.dir, 'seed.ts')
        writeFileSync(seed, CLI_SEED)
        await project.exec(process.execPath, ['--import', 'tsx', seed], env)
        const session = example.source.replace('redis://127.0.0.1:6379', env.REDIS_URL!)
        output = (
          await project.exec('sh', ['-c', `exec 2>&1\n${session}`], {
            ...env,
            PATH: `${join(project.dir, 'node_modules/.bin')}:${process.env.PATH}`,
          })
        ).stdout
      }
      if (example.prints !== undefined) expect(output).toBe(example.prints)
      else expect(output.length).toBeGreaterThan(0)
    },
    120_000,
  )
})

/** An app a company would write: every package's main entry point, typed, with its own ioredis and zod. */
const APP = `import { CachesagaError, errorCode, type RedisConnection } from '@cachesaga/common'
import { type Cache, createCache, type InvalidationTarget } from '@cachesaga/core'
import { OutboxRelay, defineChangeCapture, watchTable } from '@cachesaga/postgres'
import { bookingEvents, defineCatalog, defineEvent, Dispatcher, type DispatchEvent } from '@cachesaga/queue'
import { createSagaRunner, defineSaga, DomainRejection, invalidateCache } from '@cachesaga/saga'
import { runCli } from '@cachesaga/cli'
import { Cluster, Redis } from 'ioredis'
import { z } from 'zod'

const redis = new Redis({ lazyConnect: true })
const connections: RedisConnection[] = [redis, new Cluster([{ host: '127.0.0.1', port: 7000 }], { lazyConnect: true }), 'redis://x']
const cache: Cache = createCache({ namespace: 'app', redis })
const target: InvalidationTarget = { tags: ['staff:1'] }
void cache.invalidate(target)

const refunded = defineEvent('payment.refunded').version(1, z.object({ paymentId: z.string(), cents: z.number().int() }))
const catalog = defineCatalog([...bookingEvents, refunded])
const dispatcher = new Dispatcher({ redis, catalog })
const event: DispatchEvent<typeof catalog> = {
  type: 'payment.refunded',
  version: 1,
  eventId: 'e-1',
  occurredAt: new Date().toISOString(),
  tenantId: 't',
  payload: { paymentId: 'p-1', cents: 500 },
}
void dispatcher.dispatch(event)
void new OutboxRelay<DispatchEvent<typeof catalog>>({ database: 'postgres://localhost/app', dispatcher })

const saga = defineSaga('refund', { input: z.object({ paymentId: z.string() }) })
  .step('refund', {
    kind: 'pivot',
    run: (ctx) => {
      if (ctx.input.paymentId === '') throw new DomainRejection('PAY_ERR_UNKNOWN', 'no such payment')
      return { refunded: true }
    },
  })
  .step(invalidateCache({ tags: ['payments'] }))
const runner = createSagaRunner({ redis, cache, sagas: [saga] })
void runner

void defineChangeCapture({ tables: [watchTable('public.payments', { columns: ['id'], targets: (row) => ({ keys: [\`payment:\${row.id}\`] }) })] })
const failure: unknown = new Error('x')
if (failure instanceof CachesagaError) console.log(failure.code, errorCode(failure))
void runCli
void connections
`

/** A CommonJS module of a TypeScript app (module nodenext treats .cts as CommonJS). */
const REQUIRE_APP = `import core = require('@cachesaga/core')
import common = require('@cachesaga/common')
const cache: core.Cache = core.createCache({ namespace: 'cjs', redis: false })
const error: common.CachesagaError = new common.CachesagaError('X_ERR', 'x')
export { cache, error }
`

/** What the CLI README's session expects the application to have cached. */
const CLI_SEED = `import { createCache } from '@cachesaga/core'
const cache = createCache({ namespace: 'booking', redis: process.env.REDIS_URL! })
await cache.ready()
await cache.set('ghost:session:42', { user: 42 })
await cache.set('availability:7:2026-11-22', ['09:00'], { tags: ['staff:7'] })
await cache.close()
`
