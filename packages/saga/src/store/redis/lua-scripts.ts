import { readFileSync } from 'node:fs'
import type { Cluster, Redis } from 'ioredis'

const LUA_DIR = new URL('../../lua/', import.meta.url)
const INCLUDE = /^--!include (\S+)$/gm

/** A script's source with its `--!include <file>` lines replaced by those files (shared snippets live in `lua/lib`). */
export function luaSource(file: string): string {
  return readFileSync(new URL(file, LUA_DIR), 'utf8').replace(INCLUDE, (_, included: string) =>
    luaSource(included),
  )
}

/**
 * Every script of the store, by the name it is called with, and its number of keys. The number is fixed per name, so
 * ioredis knows which arguments are keys however the script is called (a Cluster routes it by them).
 */
const SCRIPTS = {
  sagaAcquire: { file: 'acquire-saga.lua', keys: 11 },
  sagaAdvance: { file: 'advance-saga.lua', keys: 2 },
  sagaAdvanceState: { file: 'advance-saga.lua', keys: 11 },
  sagaRenewLease: { file: 'renew-lease.lua', keys: 2 },
  sagaOperatorAction: { file: 'operator-action.lua', keys: 11 },
  sagaDueMembers: { file: 'due-members.lua', keys: 1 },
  sagaForget: { file: 'forget-saga.lua', keys: 6 },
  sagaScheduleRetry: { file: 'schedule-invalidation-retry.lua', keys: 2 },
  sagaClaimRetries: { file: 'claim-invalidation-retries.lua', keys: 2 },
  sagaAckRetry: { file: 'ack-invalidation-retry.lua', keys: 2 },
} as const

export type ScriptName = keyof typeof SCRIPTS
type ScriptArg = string | number

// Read once per process; every store defines them on its own connection.
const sources = Object.fromEntries(
  Object.entries(SCRIPTS).map(([name, { file }]) => [name, luaSource(file)]),
) as Record<ScriptName, string>

/**
 * The scripts, defined on one connection with ioredis `defineCommand`: called by SHA, loaded again by ioredis on a
 * NOSCRIPT (a restarted or failed-over node, a cluster node that never saw it), and routed by their first key on a
 * Cluster.
 */
export class LuaScripts {
  constructor(private readonly client: Redis | Cluster) {
    for (const name of Object.keys(SCRIPTS) as ScriptName[]) {
      client.defineCommand(name, { lua: sources[name], numberOfKeys: SCRIPTS[name].keys })
    }
  }

  run(name: ScriptName, keys: readonly string[], args: readonly ScriptArg[]): Promise<unknown> {
    if (keys.length !== SCRIPTS[name].keys) {
      throw new Error(`${name} takes ${SCRIPTS[name].keys} keys, not ${keys.length}`)
    }
    const command = (
      this.client as unknown as Record<ScriptName, (...args: ScriptArg[]) => Promise<unknown>>
    )[name]
    return command.call(this.client, ...keys, ...args)
  }
}
