import { readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type RedisServer, startRedis } from '@cachesaga/testkit'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ACL_USERS, aclRules, commandsOf, readmeAclLines } from './support/readme-acl.js'

// The README lines are the one source: the other tests of this folder run components on them, and these check them
// against the code they are for, so a script that starts running a new command fails here first.

const PLACEHOLDERS = {
  namespace: 'n',
  prefix: '{q}',
  queue: 'booking',
  'key-prefix': 's:',
  'queue-prefix': '{q}',
  'saga-prefix': 's:',
}

/** Rights every line may carry besides data commands: connection upkeep and the Cluster client's own. */
const CLUSTER_ONLY = ['cluster|slots', 'cluster|info']

/** Every `.lua` file under `dir`. */
function luaFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.lua'))
    .map((file) => join(dir, file))
}

/** The quoted upper-case words of Lua sources that Redis knows as commands: what the scripts can run. */
async function commandsNamedIn(files: readonly string[], redis: Redis): Promise<Set<string>> {
  const words = new Set<string>()
  for (const file of files) {
    for (const [, word] of readFileSync(file, 'utf8').matchAll(/["']([A-Z]+)["']/g))
      words.add(word!.toLowerCase())
  }
  const known = (await redis.call('COMMAND', 'INFO', ...words)) as unknown[]
  return new Set([...words].filter((_, i) => known[i] !== null))
}

describe('the Redis ACL lines of the READMEs', () => {
  let server: RedisServer
  let redis: Redis

  beforeAll(async () => {
    // Redis itself checks every rule of every line: a misspelled command or a bad pattern fails the start.
    const users = Object.entries(ACL_USERS).flatMap(([pkg, names]) =>
      names.map((name) => ({
        name: `${pkg}-${name.replace(/[<>]/g, '')}`,
        password: 'secret',
        rules: aclRules(pkg as keyof typeof ACL_USERS, name as never, PLACEHOLDERS),
      })),
    )
    server = await startRedis({ users })
    redis = new Redis(server.url)
  })

  afterAll(async () => {
    redis?.disconnect()
    await server?.stop()
  })

  it('are one per user the tests expect, each accepted by Redis', async () => {
    for (const [pkg, names] of Object.entries(ACL_USERS)) {
      expect([...readmeAclLines(pkg as keyof typeof ACL_USERS).keys()]).toEqual([...names])
    }
    const created = (await redis.call('ACL', 'USERS')) as string[]
    expect(created).toEqual(
      expect.arrayContaining(['core-cache-namespace', 'queue-queue-worker', 'cli-cachesaga-viewer']),
    )
  })

  it("grant a worker and a producer exactly the commands the installed BullMQ's scripts run", async () => {
    const queuePackage = fileURLToPath(new URL('../../packages/queue/package.json', import.meta.url))
    const bullmq = dirname(createRequire(queuePackage).resolve('bullmq/package.json'))
    const scripts = await commandsNamedIn(luaFiles(join(bullmq, 'dist/esm/commands')), redis)
    const own = ['evalsha', 'eval', 'info', 'client|setname', ...CLUSTER_ONLY]
    const worker = commandsOf(aclRules('queue', 'queue-worker', PLACEHOLDERS))
    const producer = commandsOf(aclRules('queue', 'queue-producer', PLACEHOLDERS))
    expect([...worker].filter((command) => ![...own, 'bzpopmin'].includes(command)).sort()).toEqual(
      [...scripts].sort(),
    )
    expect([...producer].filter((command) => !own.includes(command)).sort()).toEqual([...scripts].sort())
  })

  it('grant the cache and the saga runner every command their own scripts run', async () => {
    const packages = fileURLToPath(new URL('../../packages/', import.meta.url))
    const cache = commandsOf(aclRules('core', 'cache-<namespace>', PLACEHOLDERS))
    for (const command of await commandsNamedIn(luaFiles(join(packages, 'core/src/lua')), redis)) {
      expect({ command, granted: cache.has(command) }).toEqual({ command, granted: true })
    }
    const saga = commandsOf(aclRules('saga', 'saga-runner', PLACEHOLDERS))
    for (const command of await commandsNamedIn(luaFiles(join(packages, 'saga/src/lua')), redis)) {
      expect({ command, granted: saga.has(command) }).toEqual({ command, granted: true })
    }
  })

  it("give the CLI's operator the cache's, a producer's and a runner's commands, and purge and DBSIZE", () => {
    const union = new Set([
      ...commandsOf(aclRules('core', 'cache-<namespace>', PLACEHOLDERS)),
      ...commandsOf(aclRules('queue', 'queue-producer', PLACEHOLDERS)),
      ...commandsOf(aclRules('saga', 'saga-runner', PLACEHOLDERS)),
      'getdel',
      'dbsize',
    ])
    for (const command of CLUSTER_ONLY) union.delete(command) // the CLI connects to one server by URL
    const operator = commandsOf(aclRules('cli', 'cachesaga-operator', PLACEHOLDERS))
    expect([...operator].sort()).toEqual([...union].sort())
  })

  it("give the CLI's viewer no command that writes, only commands the operator has", async () => {
    const operator = commandsOf(aclRules('cli', 'cachesaga-operator', PLACEHOLDERS))
    const viewer = [...commandsOf(aclRules('cli', 'cachesaga-viewer', PLACEHOLDERS))]
    expect(viewer.filter((command) => !operator.has(command))).toEqual([])
    const infos = (await redis.call('COMMAND', 'INFO', ...viewer)) as Array<[string, number, string[]]>
    const writing = infos.filter(([, , flags]) => flags.includes('write')).map(([name]) => name)
    expect(writing).toEqual([])
  })
})
