import { execFile } from 'node:child_process'
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { findKeysCalls } from '../scripts/check-no-redis-keys.mjs'

const SCRIPT = fileURLToPath(new URL('../scripts/check-no-redis-keys.mjs', import.meta.url))

describe('findKeysCalls', () => {
  describe('flags the Redis KEYS command', () => {
    it.each([
      ['an ioredis call with a pattern', "const found = await redis.keys('a:*')"],
      ['a client reached through a property', 'return this.redis.keys(pattern)'],
      ['a generic command call', "await client.call('keys', '*')"],
      ['a raw command array', "await client.sendCommand(['KEYS', '*'])"],
      ['a call split over lines', "const found = await redis\n  .keys('a:*')"],
    ])('%s', (_, line) => {
      expect(findKeysCalls(line)).toHaveLength(1)
    })

    it('in Lua text, reporting the line it is on', () => {
      const lua = [
        '-- KEYS[1]: the index key',
        "local all = redis.call('KEYS', ARGV[1])",
        'return #all',
      ].join('\n')
      expect(findKeysCalls(lua)).toEqual([
        expect.objectContaining({ line: 2, snippet: "local all = redis.call('KEYS', ARGV[1])" }),
      ])
    })
  })

  describe('leaves other uses of the word alone', () => {
    it.each([
      ['Object.keys', 'for (const name of Object.keys(options)) check(name)'],
      ['Map#keys', 'const ids = [...map.keys()]'],
      ['SCAN', "const [cursor, found] = await redis.scan('0', 'MATCH', 'a:*', 'COUNT', 100)"],
      ['the KEYS table of a Lua script', "redis.call('DEL', KEYS[1])"],
    ])('%s', (_, line) => {
      expect(findKeysCalls(line)).toEqual([])
    })
  })
})

describe('check-no-redis-keys.mjs as a command', () => {
  let tree: string | undefined
  afterEach(async () => {
    if (tree) await rm(tree, { recursive: true, force: true })
    tree = undefined
  })

  /**
   * The script checks the `packages/` and `apps/` next to its own `scripts/` folder, so a copy of it
   * placed in a temporary tree checks that tree.
   */
  async function runOverTree(files: Record<string, string>): Promise<{ code: number; stderr: string }> {
    tree = await mkdtemp(join(tmpdir(), 'cachesaga-lint-keys-'))
    const script = join(tree, 'scripts', 'check-no-redis-keys.mjs')
    await mkdir(dirname(script), { recursive: true })
    await copyFile(SCRIPT, script)
    await mkdir(join(tree, 'packages'), { recursive: true })
    await mkdir(join(tree, 'apps'), { recursive: true })
    for (const [path, text] of Object.entries(files)) {
      await mkdir(dirname(join(tree, path)), { recursive: true })
      await writeFile(join(tree, path), text)
    }
    return new Promise((resolve) => {
      execFile(process.execPath, [script], (error, _stdout, stderr) => {
        resolve({ code: error ? Number(error.code) : 0, stderr })
      })
    })
  }

  it('exits 1 and names the file and line of a forbidden call in source', async () => {
    const result = await runOverTree({
      'packages/cache/src/clear.ts': "export const clear = (redis) => {\n  return redis.keys('cache:*')\n}\n",
    })
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('packages/cache/src/clear.ts:2')
  })

  it('exits 1 for a Lua script under apps/', async () => {
    const result = await runOverTree({ 'apps/demo/src/purge.lua': "return redis.call('KEYS', ARGV[1])\n" })
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('apps/demo/src/purge.lua:1')
  })

  it('exits 0 when KEYS appears only in tests and build output', async () => {
    const result = await runOverTree({
      'packages/cache/src/clear.ts': "export const clear = (redis) => redis.scan('0', 'MATCH', 'cache:*')\n",
      'packages/cache/src/clear.test.ts': "await redis.keys('cache:*')\n",
      'packages/cache/dist/clear.js': "redis.keys('cache:*')\n",
    })
    expect(result).toEqual({ code: 0, stderr: '' })
  })
})
