import { type Cache, createCache } from '@cachesaga/core'
import { afterEach, describe, expect, it } from 'vitest'
import { namespace, useCli } from '../test-support/cli-runs.js'

const env = useCli()
const opened: Cache[] = []
afterEach(async () => {
  await Promise.all(opened.splice(0).map((cache) => cache.close()))
})

/**
 * An application instance with entries read through loaders that count their calls: after an
 * invalidation a read calls the loader again, from this instance's memory as much as from Redis.
 */
async function app() {
  const ns = namespace()
  const cache = createCache({ namespace: ns, redis: env.url })
  opened.push(cache)
  await cache.ready()
  const loads = new Map<string, number>()
  const read = (key: string, entry?: { tags?: string[]; scope?: string }) =>
    cache
      .getOrSet(key, async () => (loads.get(key) ?? 0) + 1, entry)
      .then((value) => {
        loads.set(key, value)
        return value
      })
  const getSlots = cache.wrap(
    async (staff: number) => `slots of ${staff} #${(loads.get(`q${staff}`) ?? 0) + 1}`,
    {
      name: 'getSlots',
    },
  )
  const slots = async (staff: number) => {
    const value = await getSlots(staff)
    loads.set(`q${staff}`, Number(value.split('#')[1]))
    return value
  }
  /** Resolves on the next bus message from another instance (the CLI). */
  const heard = () =>
    new Promise<void>((resolve) => {
      const listener = () => {
        cache.off('bus:message', listener)
        resolve()
      }
      cache.on('bus:message', listener)
    })
  return { ns, cache, read, slots, heard }
}

describe('cachesaga invalidate', () => {
  it('invalidates by key, tag, scope and cached function, on other instances too', async () => {
    const { ns, read, slots, heard } = await app()
    await read('booking:1')
    await read('availability:7', { tags: ['staff:7'] })
    await read('branch-menu', { scope: 'tenant:acme/branch:3' })
    await read('untouched', { tags: ['staff:8'] })
    await slots(7)
    await slots(8)

    const message = heard()
    const run = await env.cli([
      'invalidate',
      '--namespace',
      ns,
      '--key',
      'booking:1',
      '--tag',
      'staff:7',
      '--scope',
      'tenant:acme',
      '--query',
      'getSlots:[7]',
    ])
    expect(run).toEqual({
      exitCode: 0,
      stdout: `invalidated 1 key, 1 tag, 1 scope, 1 query in namespace ${ns}\n`,
      stderr: '',
    })
    await message
    expect(await read('booking:1')).toBe(2)
    expect(await read('availability:7', { tags: ['staff:7'] })).toBe(2)
    expect(await read('branch-menu', { scope: 'tenant:acme/branch:3' })).toBe(2)
    expect(await read('untouched', { tags: ['staff:8'] })).toBe(1)
    expect(await slots(7)).toBe('slots of 7 #2')
    expect(await slots(8)).toBe('slots of 8 #1')
  })

  it('invalidates every call of a cached function given by name alone', async () => {
    const { ns, slots, heard } = await app()
    await slots(7)
    await slots(8)
    const message = heard()
    const run = await env.cli(['invalidate', '--namespace', ns, '--query', 'getSlots'])
    expect(run.stdout).toBe(`invalidated 1 query in namespace ${ns}\n`)
    await message
    expect([await slots(7), await slots(8)]).toEqual(['slots of 7 #2', 'slots of 8 #2'])
  })

  it('with --dry-run counts what would match and changes nothing', async () => {
    const { ns, read } = await app()
    await read('availability:7', { tags: ['staff:7'] })
    const run = await env.cli([
      'invalidate',
      '--namespace',
      ns,
      '--tag',
      'staff:7',
      '--tag',
      'staff:8',
      '--dry-run',
    ])
    expect(run).toEqual({
      exitCode: 0,
      stdout: `would invalidate 1 tag in namespace ${ns}\n`,
      stderr: "cachesaga: warning: matched nothing (never cached, or misspelt?): tag 'staff:8'\n",
    })
    expect(await read('availability:7', { tags: ['staff:7'] })).toBe(1)
  })

  it('counts what matched, and warns naming what matched nothing: a misspelt tag, a key never cached', async () => {
    const { ns, read, slots } = await app()
    await read('availability:7', { tags: ['staff:7'] })
    await slots(7)
    const run = await env.cli([
      'invalidate',
      '--namespace',
      ns,
      '--tag',
      'staf:7',
      '--key',
      'availability:8',
      '--query',
      'getSlot',
    ])
    expect(run).toEqual({
      exitCode: 0,
      stdout: `invalidated nothing in namespace ${ns}\n`,
      stderr:
        'cachesaga: warning: matched nothing (never cached, or misspelt?): ' +
        "key 'availability:8', tag 'staf:7', query 'getSlot'\n",
    })
    expect(await read('availability:7', { tags: ['staff:7'] })).toBe(1)
    expect(await slots(7)).toBe('slots of 7 #1')
  })

  it('prints core’s report with --json', async () => {
    const { ns, read } = await app()
    await read('a')
    const run = await env.cli([
      'invalidate',
      '--namespace',
      ns,
      '--json',
      '--key',
      'a',
      '--key',
      'b',
      '--tag',
      't',
    ])
    expect(JSON.parse(run.stdout)).toMatchObject({
      namespace: ns,
      ok: true,
      dryRun: false,
      counts: { keys: 1, tags: 0, patterns: 0, scopes: 0, queries: 0 },
      unmatched: [
        { kind: 'keys', target: 'b' },
        { kind: 'tags', target: 't' },
      ],
      published: true,
      errors: [],
      durationMs: expect.any(Number),
    })
  })

  it('refuses, naming the flag, when there is nothing to invalidate or a query’s arguments are not JSON', async () => {
    const ns = namespace()
    expect(await env.cli(['invalidate', '--namespace', ns])).toMatchObject({
      exitCode: 2,
      stderr: 'cachesaga: --key: nothing to invalidate: give at least one --key, --tag, --scope or --query\n',
    })
    expect(
      await env.cli(['invalidate', '--namespace', ns, '--query', 'a', '--query', 'getSlots:[7']),
    ).toMatchObject({
      exitCode: 2,
      stderr: `cachesaga: --query #2: "getSlots:[7": expected a cached function's name, or name:[JSON array of arguments] such as 'getSlots:[7]'\n`,
    })
    // Arguments that are JSON but not an array are a mistake, not a function named `getSlots:7`.
    expect(await env.cli(['invalidate', '--namespace', ns, '--query', 'getSlots:7'])).toMatchObject({
      exitCode: 2,
      stderr: expect.stringContaining(`--query #1: "getSlots:7": expected a cached function's name`),
    })
    expect(await env.cli(['invalidate', '--namespace', ns, '--key', ''])).toMatchObject({
      exitCode: 2,
      stderr: 'cachesaga: --key #1: must not be empty\n',
    })
  })
})
