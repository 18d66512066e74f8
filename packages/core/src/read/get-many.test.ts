import { describe, expect, it } from 'vitest'
import { gate } from '../test-support/gates.js'
import { useTestRedis } from '../test-support/test-redis.js'

const redis = useTestRedis()

/** Calls per command during `run`, without the bus heartbeat's and the test's own. */
async function callsDuring(run: () => Promise<unknown>): Promise<Record<string, number>> {
  await redis.admin.config('RESETSTAT')
  await run()
  const calls: Record<string, number> = {}
  for (const [, command, count] of (await redis.admin.info('commandstats')).matchAll(
    /^cmdstat_([^:]+):calls=(\d+)/gm,
  )) {
    if (command === 'info' || command!.startsWith('config') || command === 'ping') continue
    calls[command!] = Number(count)
  }
  return calls
}

describe('getMany', () => {
  it('answers from L1, L2 and one loader call, in the order of the keys, with one MGET for L2', async () => {
    const [a, b] = await redis.caches(2)
    await a!.set('staff:1', 'one')
    await b!.set('staff:2', 'two')
    expect(await a!.getOrSet('staff:2', () => 'never')).toBe('two') // warms the counters a reads below
    await a!.delete('staff:2')
    await b!.set('staff:2', 'two')
    const asked: string[][] = []
    let answers: Array<string | undefined> = []
    const calls = await callsDuring(async () => {
      answers = await a!.getMany(['staff:1', 'staff:2', 'staff:3', 'staff:1', 'staff:4'], ({ keys }) => {
        asked.push([...keys])
        return new Map([['staff:3', 'three']])
      })
    })
    expect(answers).toEqual(['one', 'two', 'three', 'one', undefined])
    expect(asked).toEqual([['staff:3', 'staff:4']])
    // One MGET for the reads; every other MGET ran inside a script (capture, fill; the first run of a script
    // on a connection is an EVAL). staff:4 was left out by the loader: not cached.
    const scripts = (calls.evalsha ?? 0) + (calls.eval ?? 0)
    expect(calls.mget! - scripts).toBe(1)
    expect(await a!.getMany(['staff:3', 'staff:4'], () => new Map([['staff:4', 'four']]))).toEqual([
      'three',
      'four',
    ])
  })

  it('per-key options: invalidating one staff member reloads only their keys', async () => {
    const [cache] = await redis.caches(1)
    const keys = ['availability:1', 'availability:2']
    const options = (key: string) => ({ tags: [`staff:${key.split(':')[1]}`] })
    let loads = 0
    const load = ({ keys }: { keys: readonly string[] }) => {
      loads += keys.length
      return new Map(keys.map((key) => [key, `${key} v${loads}`]))
    }
    expect(await cache!.getMany(keys, load, options)).toEqual(['availability:1 v2', 'availability:2 v2'])
    await cache!.invalidate({ tags: ['staff:2'] })
    expect(await cache!.getMany(keys, load, options)).toEqual(['availability:1 v2', 'availability:2 v3'])
  })

  it('a batch loader that read old data cannot fill after an invalidation resolved', async () => {
    const [reader, writer] = await redis.caches(2)
    const started = gate()
    const mayReturn = gate()
    const read = reader!.getMany(['k1', 'k2'], async () => {
      started.open()
      await mayReturn.promise
      return new Map([
        ['k1', 'old'],
        ['k2', 'old'],
      ])
    })
    await started.promise
    await writer!.invalidate({ keys: ['k1'] })
    mayReturn.open()
    expect(await read).toEqual(['old', 'old'])
    expect(
      await reader!.getMany(
        ['k1', 'k2'],
        () =>
          new Map([
            ['k1', 'new'],
            ['k2', 'new'],
          ]),
      ),
    ).toEqual(['new', 'old'])
  })
})

describe('setMany', () => {
  it('writes every entry and tells the other instances in one bus message', async () => {
    const [a, b] = await redis.caches(2)
    await b!.getMany(
      ['x', 'y'],
      () =>
        new Map([
          ['x', 'old x'],
          ['y', 'old y'],
        ]),
    )
    const messages: number[] = []
    b!.on('bus:message', (event) => messages.push(event.seq))
    await a!.setMany([
      { key: 'x', value: 'new x' },
      { key: 'y', value: 'new y', options: { tags: ['t'] } },
    ])
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(messages).toHaveLength(1)
    expect(await b!.getMany(['x', 'y'], () => new Map())).toEqual(['new x', 'new y'])
  })
})
