import type { Cache } from '../cache.js'
import type { CacheParts } from '../compose.js'
import type { RedisProtocol } from '../redis/redis-protocol.js'

/**
 * Deliberate defects, made by wrapping one part of a built cache (nothing in production code knows of
 * them); the consistency checker's tests prove it catches each in its first run.
 */
export type Fault = 'skipL1Delete' | 'dropBusMessages' | 'fillWithoutGenerationCheck' | 'skipTagBump'

/** The parts of a cache, for tests that wrap or hold one of them. */
export function partsOf(cache: Cache): CacheParts {
  return (cache as unknown as { parts: CacheParts }).parts
}

/** The Redis protocol of a cache, for tests that hold one of its calls to force an interleaving. */
export function redisProtocolOf(cache: Cache): RedisProtocol {
  const protocol = partsOf(cache).protocol
  if (protocol === undefined) throw new Error('the cache has no Redis tier')
  return protocol
}

export function injectFault(cache: Cache, fault: Fault): void {
  const parts = partsOf(cache)
  switch (fault) {
    case 'skipL1Delete':
      // An invalidation "forgets" to drop this instance's copy of a key.
      parts.l1.delete = () => false
      return
    case 'dropBusMessages':
      parts.busReceiver.apply = () => {}
      return
    case 'fillWithoutGenerationCheck': {
      // The fill fences itself with versions taken just now, as if nothing had been captured before the load.
      const protocol = redisProtocolOf(cache)
      const fill = protocol.fill.bind(protocol)
      protocol.fill = async (key, write, fence) =>
        fill(
          key,
          write,
          await protocol.captureFence(
            key,
            fence.dependencies.map((d) => d.dependency),
          ),
        )
      return
    }
    case 'skipTagBump': {
      const protocol = redisProtocolOf(cache)
      const bump = protocol.bumpDependencies.bind(protocol)
      protocol.bumpDependencies = async (deps) => {
        const kept = deps.filter((dep) => !dep.startsWith('t:'))
        const existed = await bump(kept)
        return deps.map((dep) => (dep.startsWith('t:') ? true : existed[kept.indexOf(dep)]!))
      }
      return
    }
  }
}
