import { type Cache, createCache } from '@cachesaga/core'
import { afterEach, describe, expect, it } from 'vitest'
import { namespace, nextBusMessage, useCli } from '../test-support/cli-runs.js'

const env = useCli()
const opened: Cache[] = []
afterEach(async () => {
  await Promise.all(opened.splice(0).map((cache) => cache.close()))
})

const KEYS = ['availability:7', 'ghost:session:1', 'services']

async function appCache(ns = namespace(), tenant?: string) {
  const cache = createCache({ namespace: ns, redis: env.url, ...(tenant && { tenant }) })
  opened.push(cache)
  await cache.ready()
  for (const key of KEYS) await cache.set(key, key)
  return { cache, ns }
}

const values = (cache: Cache) => Promise.all(KEYS.map((key) => cache.get(key)))
const tokenIn = (question: string) => /Type ([0-9a-f]{32}) to confirm/.exec(question)?.[1] ?? ''

describe('cachesaga clear-all', () => {
  it('without a terminal or a token refuses with exit 2, says how, and deletes nothing', async () => {
    const { cache, ns } = await appCache()
    const run = await env.cli(['clear-all', '--namespace', ns])
    expect(run).toEqual({
      exitCode: 2,
      stdout: '',
      stderr:
        'cachesaga: refusing without confirmation, and there is no terminal to ask on: ' +
        `run \`cachesaga clear-all --namespace ${ns} --request-token\`, then pass the token it prints with --token within 60 s\n`,
    })
    expect(await values(cache)).toEqual(KEYS)
  })

  it('takes a token requested by an earlier run, once', async () => {
    const { cache, ns } = await appCache()
    const requested = await env.cli(['clear-all', '--namespace', ns, '--request-token', '--json'])
    expect(requested.exitCode).toBe(0)
    const { token, expiresInMs } = JSON.parse(requested.stdout)
    expect({ token, expiresInMs }).toEqual({
      token: expect.stringMatching(/^[0-9a-f]{32}$/),
      expiresInMs: 60_000,
    })
    expect(await values(cache)).toEqual(KEYS)

    const heard = nextBusMessage(cache)
    const cleared = await env.cli(['clear-all', '--namespace', ns, '--token', token])
    expect(cleared).toEqual({
      exitCode: 0,
      stdout: `cleared namespace ${ns}: removed 3 entries\n`,
      stderr: '',
    })
    await heard
    expect(await values(cache)).toEqual([undefined, undefined, undefined])

    await cache.set('services', 'refilled')
    const again = await env.cli(['clear-all', '--namespace', ns, '--token', token])
    expect(again).toMatchObject({
      exitCode: 2,
      stderr: 'cachesaga: the token is unknown, used or expired; nothing was deleted\n',
    })
    expect(await cache.get('services')).toBe('refilled')
  })

  it('prints the token and the next command for a person without --json', async () => {
    const ns = namespace()
    const run = await env.cli(['clear-all', '--namespace', ns, '--tenant', 'acme', '--request-token'])
    const token = /: ([0-9a-f]{32})\n/.exec(run.stdout)?.[1]
    expect(run.stdout).toBe(
      `token to clear namespace ${ns}, tenant acme, valid once for 60 s: ${token}\n` +
        `run: cachesaga clear-all --namespace ${ns} --tenant acme --token ${token}\n`,
    )
  })

  it('does not take a token issued for another namespace or tenant', async () => {
    const { cache, ns } = await appCache(namespace(), 'acme')
    const requested = await env.cli([
      'clear-all',
      '--namespace',
      ns,
      '--tenant',
      'globex',
      '--request-token',
      '--json',
    ])
    const { token } = JSON.parse(requested.stdout)
    const run = await env.cli(['clear-all', '--namespace', ns, '--tenant', 'acme', '--token', token])
    expect(run.exitCode).toBe(2)
    expect(await values(cache)).toEqual(KEYS)
  })

  it('on a terminal asks for the token it shows, and clears only this tenant when it is typed back', async () => {
    const ns = namespace()
    const { cache: acme } = await appCache(ns, 'acme')
    const { cache: globex } = await appCache(ns, 'globex')
    const heard = nextBusMessage(acme)
    const run = await env.cli(['clear-all', '--namespace', ns, '--tenant', 'acme', '--json'], {
      answer: tokenIn,
    })
    expect(run.exitCode).toBe(0)
    expect(run.stderr).toMatch(
      new RegExp(
        `^This deletes every entry of namespace ${ns}, tenant acme on every instance.\nType [0-9a-f]{32} to confirm: $`,
      ),
    )
    expect(JSON.parse(run.stdout)).toMatchObject({ namespace: ns, tenant: 'acme', ok: true, removed: 3 })
    await heard
    expect(await values(acme)).toEqual([undefined, undefined, undefined])
    expect(await values(globex)).toEqual(KEYS)
  })

  it('on a terminal deletes nothing when the typed token does not match', async () => {
    const { cache, ns } = await appCache()
    const run = await env.cli(['clear-all', '--namespace', ns], { answer: () => 'yes' })
    expect(run.exitCode).toBe(2)
    expect(run.stderr).toMatch(/cachesaga: the token did not match; nothing was changed\n$/)
    expect(await values(cache)).toEqual(KEYS)
  })

  it('refuses --token together with --request-token', async () => {
    const run = await env.cli(['clear-all', '--namespace', namespace(), '--token', 'x', '--request-token'])
    expect(run).toMatchObject({
      exitCode: 2,
      stderr: 'cachesaga: --token: give either --request-token or --token, not both\n',
    })
  })
})
