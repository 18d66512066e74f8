import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runCli } from '@cachesaga/cli'
import { type Cache, createCache } from '@cachesaga/core'
import { bookingCreated, Dispatcher, defineCatalog, QueueAdmin, startWorkers } from '@cachesaga/queue'
import { createSagaRunner } from '@cachesaga/saga'
import { eventually, type RedisServer, startRedis } from '@cachesaga/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { aBookingCreated } from '../support/booking-events.js'
import { notifyAfterBooking } from './fixtures/operator-modules.js'
import { denials, resetDenials } from './support/acl-log.js'
import { aclRules } from './support/readme-acl.js'

const MODULE = fileURLToPath(new URL('./fixtures/operator-modules.ts', import.meta.url))
const NAMESPACE = 'clinic'
const QUEUE_PREFIX = '{clinic}'
const SAGA_PREFIX = 'clinic:saga:'
const values = { namespace: NAMESPACE, 'queue-prefix': QUEUE_PREFIX, 'saga-prefix': SAGA_PREFIX }
const users = (['cachesaga-viewer', 'cachesaga-operator'] as const).map((name) => ({
  name,
  password: `${name}-secret`,
  rules: aclRules('cli', name, values),
}))

interface Run {
  exitCode: number
  stdout: string
  stderr: string
}

describe('the cachesaga CLI on its README users', () => {
  let server: RedisServer
  let app: Cache
  let blockerDir: string

  /** One `cachesaga` command line as `user`, with the queue and saga prefixes of this test where they apply. */
  async function cachesaga(user: string, ...argv: string[]): Promise<Run> {
    let stdout = ''
    let stderr = ''
    const prefixes =
      argv[0] === 'dlq' ? ['--prefix', QUEUE_PREFIX] : argv[0] === 'saga' ? ['--key-prefix', SAGA_PREFIX] : []
    const exitCode = await runCli([...argv, ...prefixes], {
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: (text: string) => (stderr += text) },
      env: { REDIS_URL: server.urlFor(user) },
    })
    return { exitCode, stdout, stderr }
  }

  const viewer = (...argv: string[]) => cachesaga('cachesaga-viewer', ...argv)
  const operator = (...argv: string[]) => cachesaga('cachesaga-operator', ...argv)
  const tokenOf = (run: Run) => (JSON.parse(run.stdout) as { token: string }).token

  beforeAll(async () => {
    server = await startRedis({ args: ['--maxmemory-policy', 'noeviction', '--appendonly', 'yes'], users })
    // The application, with all rights: a live cache, dead letters, parked sagas.
    // Thresholds a loaded test machine cannot cross: `health` judges access rights here, not speed.
    app = createCache({
      namespace: NAMESPACE,
      redis: server.url,
      snapshotEvery: '200ms',
      health: { p95: { degraded: '10s', critical: '20s' } },
    })
    await app.ready()
    for (const staff of ['ana', 'bo']) {
      await app.getOrSet(`slots:${staff}`, () => [`${staff} 09:00`], { tags: [`staff:${staff}`] })
    }
    const catalog = defineCatalog([bookingCreated.options({ queue: 'booking', jobOptions: { attempts: 1 } })])
    const workers = await startWorkers({
      redis: server.url,
      prefix: QUEUE_PREFIX,
      catalog,
      events: {
        'booking.created': async () => {
          throw new Error('the calendar is away')
        },
      },
      log: () => {},
    })
    const dispatcher = new Dispatcher({ redis: server.url, prefix: QUEUE_PREFIX, catalog })
    const admin = new QueueAdmin({ redis: server.url, prefix: QUEUE_PREFIX })
    for (let i = 0; i < 3; i++) {
      await dispatcher.dispatch(aBookingCreated('ana'))
    }
    await eventually('three dead letters', async () => (await admin.deadLetters('booking')).length === 3)
    await Promise.all([workers.close(), dispatcher.close(), admin.close()])
    blockerDir = mkdtempSync(join(tmpdir(), 'cachesaga-acl-'))
    const blocker = join(blockerDir, 'mail-server-down')
    writeFileSync(blocker, '')
    const runner = createSagaRunner({
      redis: server.url,
      keyPrefix: SAGA_PREFIX,
      sagas: [notifyAfterBooking],
    })
    for (const sagaId of ['p1', 'p2', 'p3']) {
      const outcome = await runner.run(notifyAfterBooking, { bookingId: sagaId, blocker }, { sagaId })
      expect(outcome.state).toBe('parked')
    }
    await runner.close()
  })

  afterAll(async () => {
    await app?.close()
    await server?.stop()
    if (blockerDir) rmSync(blockerDir, { recursive: true, force: true })
  })

  it('lets the viewer look at everything, and Redis refuses it nothing', async () => {
    await resetDenials([server.url])
    const looks: Array<[string[], RegExp]> = [
      [['stats', '--namespace', NAMESPACE], /^1 live instance in namespace clinic/],
      [['health', '--namespace', NAMESPACE], /^healthy \(1 live instance in namespace clinic\)/],
      [['check', '--namespace', NAMESPACE, '--verifiers', MODULE], /100(\.00)?% consistent/],
      [['clear', '--namespace', NAMESPACE, '--pattern', 'slots:*', '--dry-run'], /^would clear 2 slots keys/],
      [
        ['invalidate', '--namespace', NAMESPACE, '--tag', 'staff:ana', '--dry-run'],
        /^would invalidate 1 tag/,
      ],
      [['dlq', 'list'], /^booking: 3 dead letters/],
      [['saga', 'list'], /^parked \(3\): p1 p2 p3/],
      [['saga', 'inspect', 'p1'], /^p1 \(notify-after-booking\): parked, waiting on notify/],
    ]
    for (const [argv, shows] of looks) {
      const run = await viewer(...argv)
      expect({ argv, exitCode: run.exitCode, stderr: run.stderr }).toEqual({ argv, exitCode: 0, stderr: '' })
      expect(run.stdout).toMatch(shows)
    }
    expect(await denials([server.url])).toEqual([])
  })

  it('has Redis refuse the viewer every command that writes, even with a valid token', async () => {
    // Tokens an operator asked for: the viewer holds them, but Redis still refuses it the GETDEL that uses them.
    const clearToken = tokenOf(
      await operator('clear-all', '--namespace', NAMESPACE, '--request-token', '--json'),
    )
    const purgeToken = tokenOf(await operator('dlq', 'purge', 'booking', '--request-token', '--json'))
    await resetDenials([server.url])

    const writes: string[][] = [
      ['clear', '--namespace', NAMESPACE, '--pattern', 'slots:*'],
      ['invalidate', '--namespace', NAMESPACE, '--tag', 'staff:ana'],
      ['clear-all', '--namespace', NAMESPACE, '--request-token'],
      ['clear-all', '--namespace', NAMESPACE, '--token', clearToken],
      ['check', '--namespace', NAMESPACE, '--verifiers', MODULE, '--level', 'medium'],
      ['warm', '--namespace', NAMESPACE, '--warmers', MODULE],
      ['dlq', 'retry', 'booking', '--all'],
      ['dlq', 'purge', 'booking', '--token', purgeToken],
      ['saga', 'resolve', 'p1', '--actor', 'viewer'],
      [
        'saga',
        'skip',
        'p1',
        '--step',
        'notify',
        '--actor',
        'viewer',
        '--sagas',
        MODULE,
        '--no-require-durable-store',
      ],
      ['saga', 'retry', 'p1', '--actor', 'viewer', '--sagas', MODULE, '--no-require-durable-store'],
    ]
    for (const argv of writes) {
      const run = await viewer(...argv)
      // NOPERM at the top, or inside a script: "The user executing the script can't run this command".
      const refused = /NOPERM|user executing the script can't run/.test(run.stderr) || run.stderr
      expect({ argv, exitCode: run.exitCode, refused }).toEqual({
        argv,
        exitCode: 1,
        refused: true,
      })
    }
    const refused = await denials([server.url])
    expect(refused.filter(({ user }) => user !== 'cachesaga-viewer')).toEqual([])
    expect(new Set(refused.map(({ reason }) => reason))).toEqual(new Set(['command', 'key']))

    // Nothing changed: the entries, the dead letters, the parked sagas; and the tokens still work, once.
    const fresh = createCache({ namespace: NAMESPACE, redis: server.url })
    try {
      expect(await fresh.get('slots:ana', { tags: ['staff:ana'] })).toEqual(['ana 09:00'])
    } finally {
      await fresh.close()
    }
    expect((await viewer('dlq', 'list')).stdout).toMatch(/^booking: 3 dead letters/)
    expect((await viewer('saga', 'list')).stdout).toMatch(/^parked \(3\): p1 p2 p3/)
    expect(await operator('dlq', 'purge', 'booking', '--token', purgeToken)).toMatchObject({
      exitCode: 0,
      stdout: 'booking: purged 3 dead letters\n',
    })
    expect(await operator('clear-all', '--namespace', NAMESPACE, '--token', clearToken)).toMatchObject({
      exitCode: 0,
      stdout: expect.stringMatching(/^cleared namespace clinic: removed 2 entries/),
    })
  })

  it('lets the operator run every command, refused only CONFIG GET', async () => {
    await app.getOrSet('slots:ana', () => ['ana 09:00'], { tags: ['staff:ana'] })
    await resetDenials([server.url])
    const runs: Array<[string[], number]> = [
      [['warm', '--namespace', NAMESPACE, '--warmers', MODULE], 0],
      [['check', '--namespace', NAMESPACE, '--verifiers', MODULE, '--level', 'medium', '--heal'], 0],
      [['invalidate', '--namespace', NAMESPACE, '--tag', 'staff:ana', '--key', 'service:checkup'], 0],
      [['clear', '--namespace', NAMESPACE, '--pattern', 'slots:*'], 0],
      [['saga', 'resolve', 'p3', '--actor', 'ops', '--note', 'called the patient'], 0],
    ]
    for (const [argv, exitCode] of runs) {
      const run = await operator(...argv)
      expect({ argv, exitCode: run.exitCode, stderr: run.stderr }).toEqual({ argv, exitCode, stderr: '' })
    }

    // The dead letters purged above are gone; new ones are retried.
    expect((await operator('dlq', 'list')).stdout).toMatch(/^booking: 0 dead letters/)

    // Driving a saga on checks persistence first, with the CONFIG GET this user is not given...
    const unchecked = await operator('saga', 'retry', 'p1', '--actor', 'ops', '--sagas', MODULE, '--json')
    expect(unchecked.exitCode).toBe(1)
    expect(JSON.parse(unchecked.stderr)).toMatchObject({
      error: { code: 'SAGA_ERR_STORE_DURABILITY_UNKNOWN' },
    })
    // ...so the operator, who knows the server keeps an append-only file, says so.
    rmSync(join(blockerDir, 'mail-server-down'))
    const retried = await operator(
      'saga',
      'retry',
      'p1',
      '--actor',
      'ops',
      '--sagas',
      MODULE,
      '--no-require-durable-store',
    )
    expect(retried).toMatchObject({ exitCode: 0, stdout: 'p1: completed\n' })
    expect(retried.stderr).toMatch(/^cachesaga: warning: driving sagas anyway \(requireDurableStore: false\)/)
    const skipped = await operator(
      ...['saga', 'skip', 'p2', '--step', 'notify', '--actor', 'ops', '--sagas', MODULE],
      '--no-require-durable-store',
    )
    expect(skipped).toMatchObject({ exitCode: 0, stdout: 'p2: completed\n' })

    const refused = await denials([server.url])
    expect(new Set(refused.map(({ user, reason, object }) => `${user} ${reason} ${object}`))).toEqual(
      new Set(['cachesaga-operator command config|get']),
    )
  })
})
