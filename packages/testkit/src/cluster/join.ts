import { eventually } from '../eventually.js'
import type { OwnedRedisServer } from '../redis/owned-server.js'
import { parseClusterNodes, SLOTS } from './views.js'

/** A node about to join: its server and its cluster bus port. */
export interface Joining {
  readonly server: OwnedRedisServer
  readonly busPort: number
}

const MEET_TIMEOUT_MS = 20_000

/** The i-th of `count` equal slot ranges, the last one taking the remainder. */
function slotRange(index: number, count: number): [number, number] {
  const size = Math.floor(SLOTS / count)
  return [index * size, index === count - 1 ? SLOTS - 1 : (index + 1) * size - 1]
}

const myId = (server: OwnedRedisServer) =>
  server.admin(async (client) => String(await client.call('CLUSTER', 'MYID')))

/**
 * Forms a cluster the way `redis-cli --cluster create` does, without its one-second polling: each master
 * takes an equal share of the slots, every node gets a distinct config epoch (so no epoch collision has to
 * be resolved later), one node meets all the others, and once every node knows every other one, each
 * replica is attached to its master. `replicasOf[i]` are the replicas of `masters[i]`. The caller then
 * waits for the cluster to settle.
 */
export async function joinCluster(
  masters: readonly Joining[],
  replicasOf: ReadonlyArray<readonly Joining[]>,
) {
  const all = [...masters, ...replicasOf.flat()]
  await Promise.all(
    masters.map(({ server }, index) => {
      const [from, to] = slotRange(index, masters.length)
      const slots = Array.from({ length: to - from + 1 }, (_, offset) => from + offset)
      return server.admin((client) => client.call('CLUSTER', 'ADDSLOTS', ...slots))
    }),
  )
  await Promise.all(
    all.map(({ server }, index) =>
      server.admin((client) => client.call('CLUSTER', 'SET-CONFIG-EPOCH', index + 1)),
    ),
  )
  const [first, ...others] = all
  if (!first) return
  await first.server.admin(async (client) => {
    for (const { server, busPort } of others)
      await client.call('CLUSTER', 'MEET', server.host, server.port, busPort)
  })
  await eventually(
    `every one of ${all.length} nodes knowing all the others`,
    async () => {
      const known = await Promise.all(
        all.map(({ server }) =>
          server.admin(async (client) => parseClusterNodes(String(await client.call('CLUSTER', 'NODES')))),
        ),
      )
      return known.every(
        (nodes) => nodes.length === all.length && nodes.every(({ flags }) => !flags.has('handshake')),
      )
    },
    { timeoutMs: MEET_TIMEOUT_MS, intervalMs: 50 },
  )
  await Promise.all(
    replicasOf.map(async (replicas, index) => {
      const masterId = await myId(masters[index]!.server)
      await Promise.all(
        replicas.map(({ server }) => server.admin((client) => client.call('CLUSTER', 'REPLICATE', masterId))),
      )
    }),
  )
}
