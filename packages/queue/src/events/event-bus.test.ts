import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { aBookingCreated, aCalendarChanged, oneOfEach } from '../test-support/events.js'
import type { bookingCatalog } from './booking-events.js'
import { EventBus, type ListenerFailure } from './event-bus.js'
import type { DomainEvent } from './event-catalog.js'

/** A bus typed by the built-in catalog, with untyped signals. */
const bookingBus = () => new EventBus<Record<string, unknown>, typeof bookingCatalog>()

describe('the in-process event bus', () => {
  let unhandled: unknown[]
  const onUnhandled = (reason: unknown) => unhandled.push(reason)

  beforeEach(() => {
    unhandled = []
    process.on('unhandledRejection', onUnhandled)
  })
  afterEach(() => {
    process.off('unhandledRejection', onUnhandled)
  })

  it('delivers by exact type, namespace wildcard and catch-all', async () => {
    const bus = bookingBus()
    const seen: string[] = []
    bus.on('booking.created', (event) => {
      seen.push(`exact:${event.payload.bookingId.slice(0, 2)}`)
    })
    bus.on('booking.*', (event) => {
      seen.push(`booking:${event.type}`)
    })
    bus.on('**', (event) => {
      seen.push(`all:${event.type}`)
    })
    for (const event of oneOfEach()) await bus.publish(event)
    expect(seen.sort()).toEqual(
      [
        'exact:b-',
        'booking:booking.created',
        'booking:booking.cancelled',
        'booking:booking.rescheduled',
        'all:booking.created',
        'all:booking.cancelled',
        'all:booking.rescheduled',
        'all:calendar.changed',
      ].sort(),
    )
  })

  it('runs every listener when some throw or reject, and reports each failure by listener name', async () => {
    const bus = bookingBus()
    const failures: ListenerFailure[] = []
    bus.onListenerFailed((failure) => {
      failures.push(failure)
    })
    const ran: string[] = []
    bus.on(
      'booking.*',
      () => {
        ran.push('thrower')
        throw new Error('sync boom')
      },
      { name: 'thrower' },
    )
    bus.on(
      'booking.created',
      async () => {
        ran.push('rejecter')
        throw new Error('async boom')
      },
      { name: 'rejecter' },
    )
    bus.on('booking.created', function invalidateAvailability() {
      ran.push('healthy')
    })

    const event = aBookingCreated()
    await bus.publish(event)

    expect(ran.sort()).toEqual(['healthy', 'rejecter', 'thrower'])
    expect(
      failures.map(({ listener, event: failed, error }) => [listener, failed, (error as Error).message]),
    ).toEqual(
      expect.arrayContaining([
        ['thrower', event, 'sync boom'],
        ['rejecter', event, 'async boom'],
      ]),
    )
    expect(failures).toHaveLength(2)
    // Give a stray rejection a macrotask to surface, as it would under plain eventemitter2.
    await new Promise((resolve) => setImmediate(resolve))
    expect(unhandled).toEqual([])
  })

  it('keeps going when a failure reporter itself throws', async () => {
    const bus = bookingBus()
    const warnings: string[] = []
    const onWarning = (warning: Error) => warnings.push(warning.message)
    process.on('warning', onWarning)
    try {
      bus.onListenerFailed(() => {
        throw new Error('reporter down')
      })
      const delivered: DomainEvent<typeof bookingCatalog>[] = []
      bus.on('calendar.changed', () => {
        throw new Error('listener down')
      })
      bus.on('calendar.changed', (event) => {
        delivered.push(event)
      })
      const event = aCalendarChanged('cal-9')
      await bus.publish(event)
      await new Promise((resolve) => setImmediate(resolve))
      expect(delivered).toEqual([event])
      expect(warnings.some((message) => message.includes('reporter down'))).toBe(true)
    } finally {
      process.off('warning', onWarning)
    }
  })

  describe('signals', () => {
    /** The shape of @cachesaga/saga's transition events, restated: queue does not depend on saga. */
    type Transition = { sagaId: string; saga: string; step?: string }
    type SagaSignals = Record<'saga.started' | 'saga.completed' | 'step.completed', Transition>

    it('delivers by name, one-level and multi-level wildcard, typed by the signal map', async () => {
      const bus = new EventBus<SagaSignals>()
      const seen: string[] = []
      bus.onSignal('saga.completed', (signal) => {
        seen.push(`exact:${signal.payload.sagaId}`)
      })
      bus.onSignal('saga.*', (signal) => {
        seen.push(`saga:${signal.name}`)
      })
      bus.onSignal('**', (signal) => {
        seen.push(`all:${signal.name}`)
      })
      await bus.emit('saga.started', { sagaId: 's1', saga: 'book' })
      await bus.emit('step.completed', { sagaId: 's1', saga: 'book', step: 'hold' })
      await bus.emit('saga.completed', { sagaId: 's1', saga: 'book' })
      expect(seen.sort()).toEqual(
        [
          'saga:saga.started',
          'all:saga.started',
          'all:step.completed',
          'exact:s1',
          'saga:saga.completed',
          'all:saga.completed',
        ].sort(),
      )
    })

    it('keeps signals and domain events apart, both ways', async () => {
      const bus = bookingBus()
      const domain: string[] = []
      const signals: string[] = []
      bus.on('**', (event) => {
        domain.push(event.type)
      })
      bus.onSignal('**', (signal) => {
        signals.push(signal.name)
      })
      await bus.emit('booking.created', { not: 'a domain event' })
      await bus.publish(aBookingCreated())
      expect(domain).toEqual(['booking.created'])
      expect(signals).toEqual(['booking.created'])
    })

    it('isolates failing signal listeners like event listeners, even when the emitter does not wait', async () => {
      const bus = new EventBus<SagaSignals>()
      const failures: ListenerFailure[] = []
      const reported = new Promise<void>((resolve) => {
        bus.onListenerFailed((failure) => {
          failures.push(failure)
          if (failures.length === 2) resolve()
        })
      })
      const delivered: string[] = []
      bus.onSignal(
        'saga.*',
        () => {
          throw new Error('sync boom')
        },
        { name: 'metrics' },
      )
      bus.onSignal(
        'saga.*',
        async () => {
          throw new Error('async boom')
        },
        { name: 'tracing' },
      )
      bus.onSignal('saga.started', (signal) => {
        delivered.push(signal.payload.sagaId)
      })
      // A saga runner calls `emit` and moves on; nothing it ignores may reject.
      const emitter: { emit(name: 'saga.started', event: Transition): unknown } = bus
      void emitter.emit('saga.started', { sagaId: 's2', saga: 'book' })
      await reported
      expect(delivered).toEqual(['s2'])
      expect(failures.map(({ listener, event }) => [listener, event])).toEqual(
        expect.arrayContaining([
          ['metrics', { name: 'saga.started', payload: { sagaId: 's2', saga: 'book' } }],
          ['tracing', { name: 'saga.started', payload: { sagaId: 's2', saga: 'book' } }],
        ]),
      )
      await new Promise((resolve) => setImmediate(resolve))
      expect(unhandled).toEqual([])
    })
  })

  it('stops delivering after unsubscribe', async () => {
    const bus = bookingBus()
    let calls = 0
    const off = bus.on('booking.created', () => {
      calls++
    })
    await bus.publish(aBookingCreated())
    off()
    await bus.publish(aBookingCreated())
    expect(calls).toBe(1)
  })
})
