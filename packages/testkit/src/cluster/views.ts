import type { OwnedRedisServer } from '../redis/owned-server.js'

export const SLOTS = 16_384

/** One node as a cluster member sees it (a line of `CLUSTER NODES`). */
export interface SeenNode {
  id: string
  port: number
  /** `myself`, `master`, `slave`, `fail?`, `fail`, `handshake`, `noaddr`, `nofailover`, ... */
  flags: ReadonlySet<string>
  /** The id of its master, for a replica. */
  masterId: string | undefined
  /** The config epoch of its slot claims: the higher claim wins. */
  configEpoch: number
  /** Slot ranges it serves, inclusive. */
  slots: Array<[number, number]>
}

/** Everything one running node says about the cluster. */
export interface NodeView {
  /** Port of the node that answered. */
  port: number
  stateOk: boolean
  nodes: SeenNode[]
  /** For a replica: whether its replication link to the master is up. */
  linkUp: boolean | undefined
}

/** Parses `CLUSTER NODES`: `<id> <ip:port@bus[,host]> <flags> <master|-> <ping> <pong> <epoch> <link> <slots...>`. */
export function parseClusterNodes(text: string): SeenNode[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [id = '', address = '', flags = '', master = '-', , , epoch = '0', , ...slots] = line
        .trim()
        .split(' ')
      return {
        id,
        port: Number(address.slice(address.lastIndexOf(':') + 1).split('@')[0]),
        flags: new Set(flags.split(',')),
        masterId: master === '-' ? undefined : master,
        configEpoch: Number(epoch),
        slots: slots
          // `[slot->-node]` entries are migrations in progress, not ownership.
          .filter((slot) => !slot.startsWith('['))
          .map((slot) => {
            const [from, to = from] = slot.split('-').map(Number) as [number, number?]
            return [from, to] as [number, number]
          }),
      }
    })
}

/** Asks one node for its view, as the harness's admin. */
export async function readView(server: OwnedRedisServer): Promise<NodeView> {
  return server.admin(async (client) => {
    const info = String(await client.call('CLUSTER', 'INFO'))
    const nodes = parseClusterNodes(String(await client.call('CLUSTER', 'NODES')))
    const isReplica = nodes.find(({ flags }) => flags.has('myself'))?.flags.has('slave') ?? false
    const replication = isReplica ? await client.info('replication') : ''
    return {
      port: server.port,
      stateOk: info.includes('cluster_state:ok'),
      nodes,
      linkUp: isReplica ? replication.includes('master_link_status:up') : undefined,
    }
  })
}

/** How a node describes itself or another: `master` or `replica of :port`. */
function roleOf(node: SeenNode, all: readonly SeenNode[]): string {
  if (!node.flags.has('slave')) return 'master'
  const master = all.find(({ id }) => id === node.masterId)
  return `replica of :${master?.port ?? node.masterId}`
}

/** Slot ranges and the port serving each, in slot order, as one view has them. */
export function slotOwners(view: NodeView): Array<{ from: number; to: number; port: number }> {
  return view.nodes
    .filter(({ flags }) => flags.has('master'))
    .flatMap(({ port, slots }) => slots.map(([from, to]) => ({ from, to, port })))
    .sort((a, b) => a.from - b.from)
}

const ABNORMAL = ['fail', 'fail?', 'handshake', 'noaddr']

/**
 * A node that believes it serves slots the other nodes give to a node with a higher config epoch: they ignore
 * its claim for good. Redis 7.0 does this to a replica promoted again soon after it won an election (see
 * `elections.ts`), so say so rather than leave a bare disagreement.
 */
function ignoredClaim(view: NodeView, views: readonly NodeView[]): string | undefined {
  const self = view.nodes.find(({ flags }) => flags.has('myself'))
  if (!self?.flags.has('master') || self.slots.length === 0) return undefined
  const [from, to] = self.slots[0]!
  for (const other of views) {
    if (other === view) continue
    const owner = other.nodes.find(
      (node) => node.flags.has('master') && node.slots.some(([a, b]) => a <= from && from <= b),
    )
    if (owner && owner.id !== self.id && owner.configEpoch > self.configEpoch) {
      return (
        `:${view.port} claims slots ${from}-${to} with config epoch ${self.configEpoch}, which the others ignore ` +
        `for :${owner.port}'s ${owner.configEpoch} (a replica promoted again within moments of winning an ` +
        'election: Redis 7.0 reuses the old election)'
      )
    }
  }
  return undefined
}

/**
 * What keeps the running nodes from forming a settled cluster, in words; empty when they do: every running
 * node reports `cluster_state:ok`, knows every other running node without a failure flag, agrees with the
 * others on who serves which slot and on each node's role (as that node states it), every slot is served by
 * a running node, and every running replica's link to its master is up. Nodes that are down or paused are
 * left out of the comparison: the others may still be noticing that.
 */
export function disagreements(views: readonly NodeView[], states: ReadonlyMap<number, string>): string[] {
  const problems: string[] = []
  const running = new Set(views.map(({ port }) => port))
  const selfRole = new Map<number, string>()
  for (const view of views) {
    const self = view.nodes.find(({ flags }) => flags.has('myself'))
    if (self) selfRole.set(view.port, roleOf(self, view.nodes))
  }
  const reference = views[0]
  const referenceSlots = reference ? JSON.stringify(slotOwners(reference)) : ''
  for (const view of views) {
    const at = `:${view.port}`
    if (!view.stateOk) problems.push(`${at} reports cluster_state:fail`)
    if (view.linkUp === false) problems.push(`${at} has no replication link to its master yet`)
    const owners = slotOwners(view)
    if (JSON.stringify(owners) !== referenceSlots) {
      problems.push(`${at} and :${reference?.port} disagree on which node serves which slots`)
    }
    const ignored = ignoredClaim(view, views)
    if (ignored) problems.push(ignored)
    const covered = owners.reduce((sum, { from, to }) => sum + to - from + 1, 0)
    if (covered !== SLOTS) problems.push(`${at} sees ${SLOTS - covered} slots served by no node`)
    for (const { from, to, port } of owners) {
      if (!running.has(port)) {
        problems.push(
          `${at} sees slots ${from}-${to} served by :${port}, which is ${states.get(port) ?? 'unknown'}`,
        )
      }
    }
    for (const port of running) {
      const seen = view.nodes.find((node) => node.port === port)
      if (!seen) {
        problems.push(`${at} does not know :${port}`)
        continue
      }
      const flagged = ABNORMAL.filter((flag) => seen.flags.has(flag))
      if (flagged.length > 0) problems.push(`${at} flags :${port} ${flagged.join(',')}`)
      const role = roleOf(seen, view.nodes)
      if (role !== selfRole.get(port)) {
        problems.push(`${at} sees :${port} as ${role}, but it says ${selfRole.get(port)}`)
      }
    }
  }
  return problems
}
