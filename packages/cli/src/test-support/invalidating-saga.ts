import { defineSaga, invalidateCache } from '@cachesaga/saga'
import { z } from 'zod'
import { notify } from './parking-saga.js'

/** Like `notifyAfterBooking`, with an invalidation step: a runner can only drive it with a cache. */
export const notifyAfterInvalidation = defineSaga('notify-after-invalidation', {
  input: z.object({ bookingId: z.string(), blocker: z.string() }),
})
  .step('commit', { kind: 'pivot', run: ({ input }) => ({ committed: input.bookingId }) })
  .step(invalidateCache(({ input }) => ({ tags: [`booking:${input.bookingId}`] })))
  .step('notify', { run: ({ input }) => notify(input.blocker) })

// What `cachesaga saga retry --sagas <this file>` loads.
export default [notifyAfterInvalidation]
