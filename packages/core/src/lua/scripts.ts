import { readFileSync } from 'node:fs'
import type { Cluster, Redis } from 'ioredis'

/** The Lua scripts, by the command name they get on the client. Each `.lua` file documents its KEYS/ARGV. */
const SCRIPTS = {
  csCapture: 'capture.lua',
  csFill: 'fill.lua',
  csSet: 'set.lua',
  csDelete: 'delete.lua',
  csBump: 'bump.lua',
  csLeaseAcquire: 'lease-acquire.lua',
  csLeaseRelease: 'lease-release.lua',
  csRestartFence: 'restart-fence.lua',
} as const

type ScriptName = keyof typeof SCRIPTS
type ScriptCall = (numberOfKeys: number, ...keysAndArgs: string[]) => Promise<unknown>

/** A client with the scripts attached; ioredis sends EVALSHA and falls back to EVAL on NOSCRIPT. */
export type ScriptedClient = (Redis | Cluster) & Record<ScriptName, ScriptCall>

let sources: Record<ScriptName, string> | undefined

function loadSources(): Record<ScriptName, string> {
  if (sources) return sources
  const loaded = {} as Record<ScriptName, string>
  for (const [name, file] of Object.entries(SCRIPTS) as Array<[ScriptName, string]>) {
    loaded[name] = readFileSync(new URL(`./${file}`, import.meta.url), 'utf8')
  }
  sources = loaded
  return loaded
}

export function attachScripts(client: Redis | Cluster): ScriptedClient {
  for (const [name, lua] of Object.entries(loadSources())) client.defineCommand(name, { lua })
  return client as ScriptedClient
}
