import { type Cache, createCache } from '@cachesaga/core'
import { Redis } from 'ioredis'
import { afterEach, describe, expect, it } from 'vitest'
import { namespace, nextBusMessage, useCli } from '../test-support/cli-runs.js'

const env = useCli()
const opened: Cache[] = []
afterEach(async () => {
  await Promise.all(opened.splice(0).map((cache) => cache.close()))
})

/** A cache of the application under a fresh namespace, with `keys` written to it. */
async function appCache(keys: string[], tenant?: string): Promise<{ cache: Cache; ns: string }> {
  const ns = namespace()
  const cache = createCache({ namespace: ns, redis: env.url, ...(tenant && { tenant }) })
  opened.push(cache)
  await cache.ready()
  for (const key of keys) await cache.set(key, { key })
  return { cache, ns }
}

const SESSIONS = ['patch:ok', 'ghost:session:1', 'ghost:session:2', 'availability:7:2026-11-22']

describe('cachesaga clear', () => {
  it('deletes what the patterns match and prints a count per pattern', async () => {
    const { cache, ns } = await appCache(['ghost:session:1', 'availability:7:2026-11-22'])
    const heard = nextBusMessage(cache)
    const run = await env.cli([
      'clear',
      '--namespace',
      ns,
      '--pattern',
      'patch:*',
      '--pattern',
      'ghost:session:*',
    ])
    expect(run).toEqual({ exitCode: 0, stdout: 'cleared 0 patch keys and 1 session keys\n', stderr: '' })
    await heard
    expect(await cache.get('ghost:session:1')).toBeUndefined()
    expect(await cache.get('availability:7:2026-11-22')).toEqual({ key: 'availability:7:2026-11-22' })
  })

  it('with --dry-run counts and samples, and deletes nothing', async () => {
    const { cache, ns } = await appCache(SESSIONS)
    const run = await env.cli([
      'clear',
      '--namespace',
      ns,
      '--pattern',
      'ghost:*',
      '--pattern',
      'nothing:*',
      '--dry-run',
    ])
    expect(run.exitCode).toBe(0)
    const [summary, ...samples] = run.stdout.trimEnd().split('\n')
    expect(summary).toBe('would clear 2 ghost keys and 0 nothing keys')
    expect(samples[0]).toMatch(/^ {2}'ghost:\*': 2 keys, e\.g\. ghost:session:[12], ghost:session:[12]$/)
    expect(samples[1]).toBe("  'nothing:*': 0 keys")
    for (const key of SESSIONS) expect(await cache.get(key)).toEqual({ key })
  })

  it('prints core’s report, per pattern, with --json', async () => {
    const { ns } = await appCache(SESSIONS)
    const run = await env.cli([
      'clear',
      '--json',
      '--namespace',
      ns,
      '--pattern',
      'ghost:session:?',
      '--pattern',
      'patch:*',
    ])
    expect(run.exitCode).toBe(0)
    const report = JSON.parse(run.stdout)
    expect(report).toMatchObject({
      namespace: ns,
      ok: true,
      dryRun: false,
      removed: 3,
      counts: { patterns: 2 },
      published: true,
      errors: [],
      patterns: [
        {
          pattern: 'ghost:session:?',
          matched: 2,
          sample: expect.arrayContaining(['ghost:session:1', 'ghost:session:2']),
        },
        { pattern: 'patch:*', matched: 1, sample: ['patch:ok'] },
      ],
    })
  })

  it('refuses a match-everything pattern without --all, exits 2 and deletes nothing', async () => {
    const { cache, ns } = await appCache(SESSIONS)
    const refused = await env.cli(['clear', '--namespace', ns, '--pattern', 'ghost:*', '--pattern', '*'])
    expect(refused).toEqual({
      exitCode: 2,
      stdout: '',
      stderr: `cachesaga: --pattern '*' matches every key of namespace ${ns}; pass --all if that is meant\n`,
    })
    for (const key of SESSIONS) expect(await cache.get(key)).toEqual({ key })

    const heard = nextBusMessage(cache)
    const allowed = await env.cli(['clear', '--namespace', ns, '--pattern', '*', '--all'])
    expect(allowed).toMatchObject({ exitCode: 0, stdout: "cleared 4 '*' keys\n" })
    await heard
    for (const key of SESSIONS) expect(await cache.get(key)).toBeUndefined()
  })

  it('names --pattern when none is given', async () => {
    const run = await env.cli(['clear', '--namespace', namespace()])
    expect(run).toMatchObject({
      exitCode: 2,
      stderr: 'cachesaga: --pattern: at least one --pattern is required\n',
    })
  })

  it('stays inside --tenant', async () => {
    const acme = await appCache(['ghost:session:1'], 'acme')
    const other = createCache({ namespace: acme.ns, tenant: 'globex', redis: env.url })
    opened.push(other)
    await other.set('ghost:session:1', 'globex')
    const heard = nextBusMessage(acme.cache)
    const run = await env.cli(['clear', '--namespace', acme.ns, '--tenant', 'acme', '--pattern', 'ghost:*'])
    expect(run.stdout).toBe('cleared 1 ghost keys\n')
    await heard
    expect(await acme.cache.get('ghost:session:1')).toBeUndefined()
    expect(await other.get('ghost:session:1')).toBe('globex')
  })

  it('drops the copies other instances hold in memory', async () => {
    const { cache, ns } = await appCache([])
    await cache.ready()
    let loads = 0
    const load = async () => ++loads
    await cache.getOrSet('ghost:session:9', load)
    await cache.getOrSet('ghost:session:9', load) // an L1 hit
    const received = new Promise((resolve) => cache.on('bus:message', resolve))
    await env.cli(['clear', '--namespace', ns, '--pattern', 'ghost:*'])
    await received
    expect(await cache.getOrSet('ghost:session:9', load)).toBe(2)
  })

  describe('on a large keyspace', () => {
    const fill = async (keys: number) => {
      const redis = new Redis(env.url)
      try {
        const pipeline = redis.pipeline()
        for (let i = 0; i < keys; i++) pipeline.set(`unrelated:${i}`, '1')
        await pipeline.exec()
      } finally {
        redis.disconnect()
      }
    }

    it('draws a progress line on a terminal’s stderr and erases it; stdout stays clean', async () => {
      await fill(10_000)
      const { ns } = await appCache(['ghost:session:1'])
      const run = await env.cli(['clear', '--namespace', ns, '--pattern', 'ghost:*'], { stderrIsTTY: true })
      expect(run.exitCode).toBe(0)
      expect(run.stdout).toBe('cleared 1 ghost keys\n')
      const eraseLine = '\r\x1b[K'
      const frames = run.stderr.split(eraseLine)
      expect(frames[0]).toBe('')
      expect(frames[1]).toMatch(/^\[-{20}\] {3}0% scanning \d{5} keys for 1 pattern \(\d+\.\ds\)$/)
      // Core reports each SCAN page, so the bar fills up to the end of the walk.
      expect(frames).toContainEqual(expect.stringMatching(/^\[#{20}\] 100% scanning/))
      expect(frames.at(-1)).toBe('') // erased at the end
    })

    it('draws nothing when stderr is not a terminal', async () => {
      const { ns } = await appCache(['ghost:session:1'])
      const run = await env.cli(['clear', '--namespace', ns, '--pattern', 'ghost:*'])
      expect(run).toEqual({ exitCode: 0, stdout: 'cleared 1 ghost keys\n', stderr: '' })
    })
  })
})
