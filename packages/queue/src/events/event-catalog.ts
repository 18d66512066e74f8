import { QueueError } from '../errors.js'
import type { DomainEventShape } from './envelope.js'
import type { AnyEventDefinition, DispatchEventOf, EventOf } from './event-definition.js'

/**
 * The event types an application publishes and consumes, by type. Dispatchers and workers take a catalog, so what
 * they accept is checked by TypeScript (the catalog's events only) and by zod at run time (`parse`).
 */
export interface EventCatalog<D extends AnyEventDefinition = AnyEventDefinition> {
  readonly definitions: readonly D[]
  readonly types: readonly D['type'][]
  /** Every queue an event of the catalog goes to, each once. */
  readonly queues: readonly D['queue'][]
  /** The definition of `type`; undefined for a type outside the catalog. */
  definition<T extends string>(type: T): Extract<D, { type: T }> | undefined
  /** The types routed to `queue` (several types may share one). */
  typesOn(queue: string): readonly D['type'][]
  /**
   * Validates an event from outside (a producer, a job payload) and returns it at its latest version: older versions
   * are upcast, and the result validated again. Throws `QueueError` `CSQ_ERR_INVALID_EVENT` naming the field.
   */
  parse(input: unknown): EventOf<D>
}

// biome-ignore lint/suspicious/noExplicitAny: any catalog, whatever its definitions.
export type AnyEventCatalog = EventCatalog<any>

/** The definitions a catalog holds. */
export type DefinitionsOf<C> = C extends EventCatalog<infer D> ? D : never

/** The event types of a catalog. */
export type EventTypeOf<C extends AnyEventCatalog> = DefinitionsOf<C>['type']

/** The queues of a catalog's events. */
export type QueueOf<C extends AnyEventCatalog> = DefinitionsOf<C>['queue']

/** The events of a catalog at their latest versions, as handlers receive them; `T` narrows to some types. */
export type DomainEvent<C extends AnyEventCatalog, T extends EventTypeOf<C> = EventTypeOf<C>> = Extract<
  EventOf<DefinitionsOf<C>>,
  { type: T }
>

/** What `dispatch` accepts for a catalog: each type with its latest payload; `version` may be left out. */
export type DispatchEvent<C extends AnyEventCatalog, T extends EventTypeOf<C> = EventTypeOf<C>> = Extract<
  DispatchEventOf<DefinitionsOf<C>>,
  { type: T }
>

/** Groups definitions into an application's catalog; a type may appear once. */
export function defineCatalog<const Ds extends readonly AnyEventDefinition[]>(
  definitions: Ds,
): EventCatalog<Ds[number]> {
  return new Catalog(definitions) as EventCatalog<Ds[number]>
}

class Catalog implements EventCatalog {
  readonly types: readonly string[]
  readonly queues: readonly string[]
  private readonly byType = new Map<string, AnyEventDefinition>()

  constructor(readonly definitions: readonly AnyEventDefinition[]) {
    if (definitions.length === 0) {
      throw new QueueError('CSQ_ERR_INVALID_DEFINITION', 'a catalog needs at least one event definition')
    }
    for (const definition of definitions) {
      if (this.byType.has(definition.type)) {
        throw new QueueError('CSQ_ERR_INVALID_DEFINITION', `the catalog defines ${definition.type} twice`)
      }
      this.byType.set(definition.type, definition)
    }
    this.types = [...this.byType.keys()]
    this.queues = [...new Set(definitions.map((definition) => definition.queue))]
  }

  definition(type: string): never {
    return this.byType.get(type) as never
  }

  typesOn(queue: string): readonly string[] {
    return this.definitions.filter((definition) => definition.queue === queue).map(({ type }) => type)
  }

  parse(input: unknown): never {
    const head = (typeof input === 'object' && input !== null ? input : {}) as Partial<DomainEventShape>
    const issues: string[] = []
    const definition = typeof head.type === 'string' ? this.byType.get(head.type) : undefined
    if (definition === undefined) {
      issues.push(
        `type: expected one of ${this.types.join(', ')}, got ${JSON.stringify(head.type) ?? 'nothing'}`,
      )
    }
    const { version } = head
    if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
      issues.push(`version: expected a positive integer, got ${JSON.stringify(version) ?? 'nothing'}`)
    }
    if (issues.length > 0 || definition === undefined) {
      throw new QueueError('CSQ_ERR_INVALID_EVENT', `not an event of this catalog: ${issues.join('; ')}`, {
        details: { type: head.type, version },
      })
    }
    return definition.parseVersion(input, version as number) as never
  }
}
