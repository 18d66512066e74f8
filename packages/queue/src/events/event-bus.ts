import eventemitter2 from 'eventemitter2'
import type { DomainEventShape } from './envelope.js'
import type { AnyEventCatalog, DefinitionsOf, DomainEvent } from './event-catalog.js'

// eventemitter2 is CommonJS; its class is reachable as a property of the default export.
const { EventEmitter2 } = eventemitter2

type Namespace<T extends string> = T extends `${infer Head}.${string}` ? Head : never

/** The events a bus carries: a catalog's, or any event when the bus is not typed by one. */
export type BusEvent<C extends AnyEventCatalog> = 0 extends 1 & DefinitionsOf<C>
  ? DomainEventShape
  : DomainEvent<C>

/** An exact event type, a namespace wildcard such as `booking.*`, or `**` for every event. */
export type EventPattern<C extends AnyEventCatalog = AnyEventCatalog> =
  | BusEvent<C>['type']
  | `${Namespace<BusEvent<C>['type']>}.*`
  | '**'

/** The events a pattern matches, so a `booking.*` listener is typed for booking events only. */
export type EventsMatching<C extends AnyEventCatalog, P extends string> = P extends BusEvent<C>['type']
  ? Extract<BusEvent<C>, { type: P }>
  : P extends `${infer Head}.*`
    ? Extract<BusEvent<C>, { type: `${Head}.${string}` }>
    : BusEvent<C>

export type EventListener<E> = (event: E) => void | Promise<void>

/**
 * A notification that is not a domain event: a saga transition, say. Signals have their own channel, so a `**`
 * domain listener never sees them and no signal name can collide with an event type.
 */
export interface Signal<Name extends string = string, Payload = unknown> {
  name: Name
  payload: Payload
}

/** Signal names mapped to their payload types, e.g. `Record<SagaEventName, SagaEvent>`. */
export type SignalMap = Record<string, unknown>

type SignalOf<S extends SignalMap, N extends keyof S & string> = N extends unknown ? Signal<N, S[N]> : never

/**
 * A signal name, a one-level wildcard (`saga.*`: `saga.started`, not `saga.step.started`), a multi-level one
 * (`saga.**`) or `**` for every signal.
 */
export type SignalPattern<S extends SignalMap> = (keyof S & string) | `${string}.*` | `${string}.**` | '**'

/** The signals a pattern matches, typed by the bus's `SignalMap`. */
export type SignalsMatching<S extends SignalMap, P extends string> = P extends keyof S & string
  ? SignalOf<S, P>
  : P extends `${infer Head}.*`
    ? SignalOf<S, Extract<keyof S & string, `${Head}.${string}`>>
    : P extends `${infer Head}.**`
      ? SignalOf<S, Extract<keyof S & string, `${Head}.${string}`>>
      : SignalOf<S, keyof S & string>

/** Reported once for every listener that threw or rejected; the other listeners still ran. */
export interface ListenerFailure {
  listener: string
  /** The domain event, or the signal, the listener failed on. */
  event: DomainEventShape | Signal
  error: unknown
}

const emitterOptions = { wildcard: true, delimiter: '.', maxListeners: 0 } as const

/**
 * In-process signal after a commit; not the durable record (that is the queue).
 *
 * eventemitter2 lets a throwing listener skip the ones after it, lets a rejecting async listener surface
 * as an unhandled rejection, and reports only the first error from `emitAsync`. Every listener is
 * therefore wrapped so it cannot throw or reject: each failure goes to the `listener.failed` listeners
 * with the listener's name, every listener runs, and the process stays up.
 *
 * Besides domain events the bus carries signals (`emit(name, payload)`, `onSignal(pattern, listener)`), with the
 * same guarantees. `emit` has the shape of @cachesaga/saga's `SagaEventEmitter`, so a bus passed as a saga runner's
 * `events` receives every saga transition: `new EventBus<Record<SagaEventName, SagaEvent>>()` types them. The second
 * type parameter, a catalog (`EventBus<SignalMap, typeof catalog>`), types the domain events.
 */
export class EventBus<Signals extends SignalMap = SignalMap, C extends AnyEventCatalog = AnyEventCatalog> {
  private readonly domain = new EventEmitter2(emitterOptions)
  private readonly signals = new EventEmitter2(emitterOptions)
  private readonly failureListeners = new Set<EventListener<ListenerFailure>>()
  private unnamed = 0

  /** Subscribes to a type or wildcard; `name` identifies the listener in failure reports. Returns an unsubscribe. */
  on<P extends EventPattern<C>>(
    pattern: P,
    listener: EventListener<EventsMatching<C, P>>,
    options: { name?: string } = {},
  ): () => void {
    return this.subscribe(this.domain, pattern, listener, options.name)
  }

  /** Subscribes to signals by name or wildcard; `name` identifies the listener in failure reports. */
  onSignal<P extends SignalPattern<Signals>>(
    pattern: P,
    listener: EventListener<SignalsMatching<Signals, P>>,
    options: { name?: string } = {},
  ): () => void {
    return this.subscribe(this.signals, pattern, listener, options.name)
  }

  /** Subscribes to listener failures. Returns an unsubscribe. */
  onListenerFailed(listener: EventListener<ListenerFailure>): () => void {
    this.failureListeners.add(listener)
    return () => {
      this.failureListeners.delete(listener)
    }
  }

  /** Runs every matching listener and resolves when all have settled; never rejects. */
  async publish(event: BusEvent<C>): Promise<void> {
    await this.domain.emitAsync(event.type, event)
  }

  /**
   * Sends a signal to the matching `onSignal` listeners. Synchronous callers (a saga runner) may ignore the promise:
   * it resolves once every listener has settled and never rejects.
   */
  async emit<N extends keyof Signals & string>(name: N, payload: Signals[N]): Promise<void> {
    const signal: Signal = { name, payload }
    await this.signals.emitAsync(name, signal)
  }

  private subscribe<E extends DomainEventShape | Signal>(
    emitter: InstanceType<typeof EventEmitter2>,
    pattern: string,
    listener: EventListener<E>,
    name: string | undefined,
  ): () => void {
    const listenerName = name ?? (listener.name || `${pattern}#${++this.unnamed}`)
    const guarded = async (event: E): Promise<void> => {
      try {
        await listener(event)
      } catch (error) {
        await this.reportFailure({ listener: listenerName, event, error })
      }
    }
    emitter.on(pattern, guarded)
    return () => {
      emitter.off(pattern, guarded)
    }
  }

  private async reportFailure(failure: ListenerFailure): Promise<void> {
    await Promise.all(
      [...this.failureListeners].map(async (report) => {
        try {
          await report(failure)
        } catch (error) {
          // A failing failure-reporter has nowhere left to report to; a warning beats a crash or a loop.
          process.emitWarning(`listener.failed handler threw: ${String(error)}`, 'CachesagaEventBus')
        }
      }),
    )
  }
}
