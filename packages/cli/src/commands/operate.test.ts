import { fileURLToPath } from 'node:url'
import { type Cache, createCache } from '@cachesaga/core'
import { afterEach, describe, expect, it } from 'vitest'
import { rows } from '../test-support/booking-source.js'
import { namespace, nextBusMessage, useCli } from '../test-support/cli-runs.js'

const env = useCli()
const SOURCE = fileURLToPath(new URL('../test-support/booking-source.ts', import.meta.url))
const opened: Cache[] = []
afterEach(async () => {
  await Promise.all(opened.splice(0).map((cache) => cache.close()))
  rows.clear()
})

/** A live application instance that writes its snapshot every 50 ms. */
async function instance(ns: string): Promise<Cache> {
  const cache = createCache({ namespace: ns, redis: env.url, snapshotEvery: 50 })
  opened.push(cache)
  await cache.ready()
  return cache
}

/** Polls a CLI run until `done` accepts it (the instances write their snapshots asynchronously). */
async function until(argv: string[], done: (stdout: string) => boolean) {
  const deadline = Date.now() + 10_000
  while (true) {
    const run = await env.cli(argv)
    if (done(run.stdout) || Date.now() > deadline) return run
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

describe('cachesaga stats', () => {
  it('prints what each live instance wrote, as text and as JSON', async () => {
    const ns = namespace()
    const app = await instance(ns)
    await app.getOrSet('k', () => 1)
    await app.getOrSet('k', () => 1)
    const run = await until(['stats', '--namespace', ns], (out) => out.includes('L1 1/1'))
    expect(run.exitCode).toBe(0)
    expect(run.stdout).toContain(`1 live instance in namespace ${ns}`)
    expect(run.stdout).toMatch(new RegExp(`instance ${app.instanceId} .*hit rate 50.0%, L1 1/1 hits/misses`))
    const json = JSON.parse((await env.cli(['stats', '--namespace', ns, '--json'])).stdout)
    expect(json.instances).toHaveLength(1)
    expect(json.instances[0].stats.l1).toEqual({ hits: 1, misses: 1 })
  })

  it('warns, and exits 0, when no instance is live', async () => {
    const run = await env.cli(['stats', '--namespace', namespace()])
    expect(run).toMatchObject({ exitCode: 0 })
    expect(run.stderr).toContain('no live instance wrote stats')
  })
})

describe('cachesaga health', () => {
  it('exits 0 when every live instance is healthy, and prints Redis INFO figures', async () => {
    const ns = namespace()
    const app = await instance(ns)
    const run = await until(['health', '--namespace', ns], (out) => out.includes(app.instanceId))
    expect(run.exitCode).toBe(0)
    expect(run.stdout).toMatch(/^healthy \(1 live instance/)
    expect(run.stdout).toMatch(/redis: used memory [\d.]+ MiB, evicted keys 0/)
    // Each run opens its own bus subscription; one still subscribing must not read as degraded.
    for (let again = 0; again < 20; again++) {
      expect((await env.cli(['health', '--namespace', ns])).exitCode).toBe(0)
    }
  })

  it('exits 1 with the reason when an instance is degraded', async () => {
    const ns = namespace()
    const app = await instance(ns)
    app.checker.register({ match: 'slot:*', load: () => 'truth' })
    await app.getOrSet('slot:1', () => 'stale')
    await app.checker.check()
    const run = await until(['health', '--namespace', ns, '--json'], (out) => out.includes('"degraded"'))
    expect(run.exitCode).toBe(1)
    const json = JSON.parse(run.stdout)
    expect(json.status).toBe('degraded')
    expect(json.instances[0].health.reasons).toEqual([
      'the last consistency check found 1 inconsistent copies',
    ])
  })

  it('exits 1 and says so when no instance is alive (a mistyped namespace), unless an empty one is allowed', async () => {
    const ns = namespace()
    const run = await env.cli(['health', '--namespace', `${ns}-typo`])
    expect(run.exitCode).toBe(1)
    expect(run.stdout).toMatch(/^no live instance in namespace \S+-typo \(pass --allow-empty/)
    const json = JSON.parse((await env.cli(['health', '--namespace', `${ns}-typo`, '--json'])).stdout)
    expect(json).toMatchObject({ status: 'no live instance', instances: [] })
    const allowed = await env.cli(['health', '--namespace', `${ns}-typo`, '--allow-empty'])
    expect(allowed.exitCode).toBe(0)
    expect(allowed.stdout).toMatch(/^healthy \(0 live instances/)
    expect(allowed.stderr).toContain('no live instance wrote its health; judged on Redis alone')
  })
})

describe('cachesaga check', () => {
  it('exits 0 on a consistent cache and 1 when it finds a stale copy in a live L1; --heal exits 0', async () => {
    const ns = namespace()
    const app = await instance(ns)
    rows.set('slot:1', { free: 3 })
    await app.getOrSet('slot:1', () => rows.get('slot:1'))
    const ok = await env.cli(['check', '--namespace', ns, '--level', 'medium', '--verifiers', SOURCE])
    expect(ok.exitCode).toBe(0)
    expect(ok.stdout).toMatch(
      /^medium check of namespace \S+: 100% consistent \(2 copies checked, 1 key sampled\)/,
    )

    rows.set('slot:1', { free: 2 })
    const bad = await env.cli([
      'check',
      '--namespace',
      ns,
      '--level',
      'medium',
      '--verifiers',
      SOURCE,
      '--json',
    ])
    expect(bad.exitCode).toBe(1)
    expect(
      JSON.parse(bad.stdout)
        .inconsistencies.map((item: { tier: string }) => item.tier)
        .sort(),
    ).toEqual(['l1', 'l2'])
    const heard = nextBusMessage(app)
    const healed = await env.cli(['check', '--namespace', ns, '--verifiers', SOURCE, '--heal'])
    expect(healed.exitCode).toBe(0)
    await heard
    expect(healed.stdout).toContain('healed: invalidated 1 key')
    expect(await app.getOrSet('slot:1', () => rows.get('slot:1'))).toEqual({ free: 2 })
  })

  it('exits 2 on a bad level or a module without verifiers', async () => {
    const level = await env.cli([
      'check',
      '--namespace',
      namespace(),
      '--level',
      'deep',
      '--verifiers',
      SOURCE,
    ])
    expect(level.exitCode).toBe(2)
    expect(level.stderr).toContain('--level')
    const missing = await env.cli(['check', '--namespace', namespace(), '--verifiers', './nope.mjs'])
    expect(missing.exitCode).toBe(2)
    expect(missing.stderr).toContain('--verifiers: cannot load ./nope.mjs')
  })
})

describe('cachesaga warm', () => {
  /** `cachesaga warm --namespace ns --warmers <booking-source> ...flags`. */
  const warm = (ns: string, ...flags: string[]) =>
    env.cli(['warm', '--namespace', ns, '--warmers', SOURCE, ...flags])

  it('warms the named definition per subject and exits 0', async () => {
    const ns = namespace()
    rows.set('slot:acme:1', 'a1')
    const run = await warm(ns, '--name', 'slots', '--subject', 'acme', '--subject', 'globex')
    expect(run.exitCode).toBe(0)
    expect(run.stdout).toBe('slots: 4 keys, 4 loaded, 0 already cached, 0 failed\n')
    const app = await instance(ns)
    expect(await app.get('slot:acme:1')).toBe('a1')
  })

  it('exits 1 when a loader failed, and 2 for an unknown name', async () => {
    const ns = namespace()
    const failed = await warm(ns, '--name', 'broken', '--json')
    expect(failed.exitCode).toBe(1)
    expect(JSON.parse(failed.stdout).reports[0]).toMatchObject({ name: 'broken', failed: 1 })
    expect((await warm(ns, '--name', 'nope')).exitCode).toBe(2)
  })
})
