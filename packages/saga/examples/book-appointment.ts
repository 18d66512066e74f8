import { createCache } from '@cachesaga/core'
import { EventBus } from '@cachesaga/queue'
import {
  createSagaRunner,
  DomainRejection,
  defineSaga,
  invalidateAfterBooking,
  type SagaEvent,
  type SagaEventName,
} from '@cachesaga/saga'
import { z } from 'zod'

// The booking database of this example: which slot each booking holds, and who holds each slot.
const holders = new Map<string, string>()
const committed = new Set<string>()

const redis = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const cache = createCache({ namespace: 'clinic', redis })
const availability = (staffId: string, day: string) =>
  cache.getOrSet(
    `availability:${staffId}:${day}`,
    () => [9, 10, 11].filter((hour) => !holders.has(`${staffId}@${day}T${hour}`)),
    { tags: [`availability:staff:${staffId}:${day}`] },
  )

const bookAppointment = defineSaga('book-appointment', {
  input: z.object({
    bookingId: z.string(),
    staffId: z.string(),
    serviceId: z.string(),
    day: z.iso.date(),
    hour: z.number().int().min(0).max(23),
  }),
})
  .step('hold-slot', {
    run: ({ input, idempotencyKey }) => {
      const slot = `${input.staffId}@${input.day}T${input.hour}`
      const holder = holders.get(slot)
      if (holder && holder !== idempotencyKey) {
        throw new DomainRejection('CLINIC_ERR_SLOT_TAKEN', `${slot} is taken`, { slot })
      }
      holders.set(slot, idempotencyKey)
      return { slot }
    },
    compensate: ({ result }) => {
      if (result) holders.delete(result.slot)
    },
  })
  .step('commit', {
    kind: 'pivot',
    run: ({ input }) => {
      committed.add(input.bookingId)
      return { committedAt: new Date().toISOString() }
    },
  })
  .step(
    invalidateAfterBooking(({ input }) => ({
      bookingId: input.bookingId,
      staffId: input.staffId,
      serviceId: input.serviceId,
      start: `${input.day}T${String(input.hour).padStart(2, '0')}:00:00Z`,
    })),
  )
  .step('notify', {
    retry: { attempts: 5, initialDelay: '50ms' },
    run: ({ input, attempt }) => `confirmation for ${input.bookingId} sent (attempt ${attempt})`,
  })

// Every transition goes to `events`; here the in-process bus of @cachesaga/queue, as typed signals.
const bus = new EventBus<Record<SagaEventName, SagaEvent>>()
bus.onSignal('saga.*', ({ name, payload }) =>
  console.log(`  [bus] ${name} ${payload.error?.code ?? ''}`.trimEnd()),
)

const runner = createSagaRunner({ redis, cache, events: bus, sagas: [bookAppointment] })
runner.start() // resumes sagas left behind by a crashed process, now and every 10 s

const booking = { bookingId: 'bk-1', staffId: 'ana', serviceId: 'haircut', day: '2026-11-23', hour: 10 }
console.log('free hours before:', await availability('ana', '2026-11-23'))

const sagaId = `book:${booking.bookingId}:${Date.now()}`
const outcome = await runner.run(bookAppointment, booking, { sagaId })
console.log(outcome.state, outcome.results.notify)
console.log('free hours after:', await availability('ana', '2026-11-23'))

// A duplicate delivery of the same saga runs nothing again: it returns the recorded outcome.
const again = await runner.run(bookAppointment, booking, { sagaId })
console.log('duplicate delivery:', again.state, again.results['hold-slot'])

// Another booking of the same hour is rejected before the pivot: the saga rolls back instead of committing.
const clash = await runner.run(
  bookAppointment,
  { ...booking, bookingId: 'bk-2' },
  { sagaId: `${sagaId}:clash` },
)
// The outcome's error is data: the saga's code, the step, and the domain's own code and details.
console.log(clash.state, clash.error?.code, clash.error?.step, clash.error?.domainCode, clash.error?.details)

await runner.close()
await cache.close()
