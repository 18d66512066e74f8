import eventemitter2 from 'eventemitter2'
import type { DomainEvent, DomainEventOf, DomainEventType } from './schemas.js'

// eventemitter2 is CommonJS; its class is reachable as a property of the default export.
const { EventEmitter2 } = eventemitter2

type Namespace<T extends string> = T extends `${infer Head}.${string}` ? Head : never

/** An exact event type, a namespace wildcard such as `booking.*`, or `**` for every event. */
export type EventPattern = DomainEventType | `${Namespace<DomainEventType>}.*` | '**'

/** The events a pattern matches, so a `booking.*` listener is typed for booking events only. */
export type EventsMatching<P extends EventPattern> = P extends DomainEventType
  ? DomainEventOf<P>
  : P extends `${infer Head}.*`
    ? Extract<DomainEvent, { type: `${Head}.${string}` }>
    : DomainEvent

export type EventListener<E> = (event: E) => void | Promise<void>

/** Reported once for every listener that threw or rejected; the other listeners still ran. */
export interface ListenerFailure {
  listener: string
  event: DomainEvent
  error: unknown
}

/**
 * In-process signal after a commit; not the durable record (that is the queue).
 *
 * eventemitter2 lets a throwing listener skip the ones after it, lets a rejecting async listener surface
 * as an unhandled rejection, and reports only the first error from `emitAsync`. Every listener is
 * therefore wrapped so it cannot throw or reject: each failure goes to the `listener.failed` listeners
 * with the listener's name, every listener runs, and the process stays up.
 */
export class EventBus {
  private readonly emitter = new EventEmitter2({ wildcard: true, delimiter: '.', maxListeners: 0 })
  private readonly failureListeners = new Set<EventListener<ListenerFailure>>()
  private unnamed = 0

  /** Subscribes to a type or wildcard; `name` identifies the listener in failure reports. Returns an unsubscribe. */
  on<P extends EventPattern>(
    pattern: P,
    listener: EventListener<EventsMatching<P>>,
    options: { name?: string } = {},
  ): () => void {
    const name = options.name ?? (listener.name || `${pattern}#${++this.unnamed}`)
    const guarded = async (event: EventsMatching<P>): Promise<void> => {
      try {
        await listener(event)
      } catch (error) {
        await this.reportFailure({ listener: name, event, error })
      }
    }
    this.emitter.on(pattern, guarded)
    return () => {
      this.emitter.off(pattern, guarded)
    }
  }

  /** Subscribes to listener failures. Returns an unsubscribe. */
  onListenerFailed(listener: EventListener<ListenerFailure>): () => void {
    this.failureListeners.add(listener)
    return () => {
      this.failureListeners.delete(listener)
    }
  }

  /** Runs every matching listener and resolves when all have settled; never rejects. */
  async publish(event: DomainEvent): Promise<void> {
    await this.emitter.emitAsync(event.type, event)
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
