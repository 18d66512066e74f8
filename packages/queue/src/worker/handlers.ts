import { QueueError } from '../errors.js'
import type { AnyEventCatalog, DomainEvent, EventTypeOf } from '../events/event-catalog.js'
import type { CacheInvalidator } from '../invalidation/invalidation-job.js'
import type { CacheMaintainer } from '../maintenance/cache-maintainer.js'

/** What a handler gets besides the event. */
export interface HandlerContext {
  /**
   * Stable across redeliveries of the same event (it is the event id). Delivery is at-least-once, so a
   * handler makes its effect exactly-once by recording this key in the same atomic step as the effect:
   * `INSERT ... ON CONFLICT DO NOTHING` in the transaction that writes, or a Lua script that checks and
   * marks in Redis. Marking before or after the effect as a separate step loses or repeats it on a crash.
   */
  idempotencyKey: string
  /** 1 on first delivery; higher after a retry or a stalled-job recovery. */
  attempt: number
  queue: string
  jobId: string
}

export type EventHandler<E> = (event: E, context: HandlerContext) => void | Promise<void>

/** One handler per event type of the catalog, receiving the latest version's event; a worker needs those of its queues. */
export type EventHandlers<C extends AnyEventCatalog> = {
  [T in EventTypeOf<C>]?: EventHandler<DomainEvent<C, T>>
}

/**
 * Everything a worker process can run: the events of a catalog, the `cache-invalidation` queue (given an
 * `invalidator`) and the `cache-maintenance` queue (given a `maintainer`). What `cachesaga-worker --handlers` loads.
 */
export interface WorkerHandlers<C extends AnyEventCatalog = AnyEventCatalog> {
  /** The events this worker consumes; required with `events`. */
  catalog?: C
  /** Handlers by event type. */
  events?: EventHandlers<C>
  /** Applies the invalidations of the `cache-invalidation` queue; a @cachesaga/core cache fits as is. */
  invalidator?: CacheInvalidator<object>
  /** Runs the warm and refresh jobs of the `cache-maintenance` queue; a core cache's `cache.warmer` fits. */
  maintainer?: CacheMaintainer
}

/**
 * Gives a handlers module its types: `export default defineHandlers({ catalog, events: { ... } })`; each handler gets
 * its event typed by the catalog, and a handler for a type outside it does not compile.
 */
export function defineHandlers<C extends AnyEventCatalog = never>(
  handlers: WorkerHandlers<C>,
): WorkerHandlers<C> {
  return handlers
}

/** Checks a module loaded at run time really holds handlers; throws `CSQ_ERR_INVALID_HANDLERS` otherwise. */
export function assertHandlers(value: unknown, source: string): asserts value is WorkerHandlers {
  const fail = (message: string): never => {
    throw new QueueError('CSQ_ERR_INVALID_HANDLERS', `${source}: ${message}`, { details: { module: source } })
  }
  if (typeof value !== 'object' || value === null)
    fail('the default export is not a defineHandlers({ ... }) object')
  const { catalog, events, invalidator, maintainer, ...rest } = value as Record<string, unknown>
  const unknownKeys = Object.keys(rest)
  if (unknownKeys.length > 0) {
    fail(`unknown key "${unknownKeys[0]}" (expected catalog, events, invalidator, maintainer)`)
  }
  if (events !== undefined) {
    if (typeof events !== 'object' || events === null) fail('events is not an object of handlers')
    const known = (catalog as AnyEventCatalog | undefined)?.types
    if (known === undefined) fail('events need the catalog that defines them (catalog: ...)')
    for (const [type, handler] of Object.entries(events as object)) {
      if (!known!.includes(type)) {
        fail(`"${type}" is not an event type of the catalog (expected one of ${known!.join(', ')})`)
      }
      if (typeof handler !== 'function') fail(`handler "${type}" is not a function`)
    }
  }
  if (
    invalidator !== undefined &&
    typeof (invalidator as CacheInvalidator<object>).invalidate !== 'function'
  ) {
    fail('invalidator has no invalidate(target) method')
  }
  if (maintainer !== undefined) {
    const { warm, refresh } = maintainer as CacheMaintainer
    if (typeof warm !== 'function' || typeof refresh !== 'function')
      fail('maintainer needs warm() and refresh()')
  }
}
