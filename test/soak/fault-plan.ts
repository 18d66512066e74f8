import { setTimeout as sleep } from 'node:timers/promises'
import type { FaultProxy, RedisServer, RedisSnapshot } from '@cachesaga/testkit'
import { Redis } from 'ioredis'
import { now } from './records.js'
import type { FaultWindow } from './staleness-checker.js'

/** Faults the soak injects on the cache's Redis (never on the source of truth). */
export const FAULT_KINDS = [
  'pause',
  'kill-restart',
  'client-kill-pubsub',
  'client-kill-normal',
  'debug-sleep',
  'client-pause',
  'partition',
  'rollback',
] as const
export type FaultKind = (typeof FAULT_KINDS)[number]

export interface FaultTargets {
  redis: RedisServer
  /** One proxy per node: a partition blackholes one node's connections only. */
  proxies: readonly FaultProxy[]
  /** A copy of the cache's Redis taken seconds ago: what a rollback restarts from. */
  olderSnapshot(): RedisSnapshot | undefined
}

/** A short-lived admin connection straight to the server (not through any proxy). */
async function admin<T>(redis: RedisServer, call: (client: Redis) => Promise<T>): Promise<T> {
  const client = new Redis(redis.url, { maxRetriesPerRequest: 1, commandTimeout: 5_000 })
  client.on('error', () => {})
  try {
    return await call(client)
  } finally {
    client.disconnect()
  }
}

/** Injects one fault, waits out its duration, lifts it, and returns when it was active. */
export async function injectFault(
  kind: FaultKind,
  targets: FaultTargets,
  random: () => number,
): Promise<FaultWindow> {
  const start = now()
  const between = (min: number, max: number) => min + Math.floor(random() * (max - min))
  let node: number | undefined
  switch (kind) {
    case 'pause':
      targets.redis.pause()
      await sleep(between(500, 3_000))
      targets.redis.resume()
      break
    case 'kill-restart':
      await targets.redis.kill()
      await sleep(between(200, 2_000))
      await targets.redis.restart({ from: 'empty' })
      break
    case 'client-kill-pubsub':
      await targets.redis.killPubSubClients()
      break
    case 'client-kill-normal':
      await admin(targets.redis, (client) => client.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes'))
      break
    case 'debug-sleep':
      await admin(targets.redis, (client) => client.call('DEBUG', 'SLEEP', String(between(5, 20) / 10)))
      break
    case 'client-pause':
      await admin(targets.redis, (client) =>
        client.call('CLIENT', 'PAUSE', String(between(500, 2_000)), 'ALL'),
      )
      break
    case 'rollback': {
      // Redis restarted from an older snapshot (a crash with stale RDB/AOF, or a lagging replica promoted):
      // old entries and their old generation counters come back together.
      const snapshot = targets.olderSnapshot()
      if (snapshot === undefined) return { kind, node, start, end: now() }
      await targets.redis.restart({ from: snapshot })
      return { kind, node, start, end: now(), restoredFrom: snapshot.takenAt.getTime() }
    }
    case 'partition': {
      // The node's connections stay open but carry nothing: only timeouts and heartbeats notice.
      node = Math.floor(random() * targets.proxies.length)
      const proxy = targets.proxies[node]!
      proxy.blackhole(true)
      await sleep(between(1_000, 9_000))
      proxy.blackhole(false)
      proxy.resetAll()
      break
    }
  }
  return { kind, node, start, end: now() }
}
