import { existsSync } from 'node:fs'
import { DomainRejection, defineSaga } from '@cachesaga/saga'
import { z } from 'zod'

/**
 * A saga whose step after the pivot is rejected while the file `blocker` exists, so it parks and
 * waits for an operator; deleting the file is "fixing the mail server".
 */
export const notifyAfterBooking = defineSaga('notify-after-booking', {
  input: z.object({ bookingId: z.string(), blocker: z.string() }),
})
  .step('commit', { kind: 'pivot', run: ({ input }) => ({ committed: input.bookingId }) })
  .step('notify', { run: ({ input }) => notify(input.blocker) })

/** The step that parks: rejected while the file `blocker` exists. */
export function notify(blocker: string): string {
  if (existsSync(blocker)) {
    throw new DomainRejection('MAIL_ERR_ADDRESS_REFUSED', 'the mail server refused the address')
  }
  return 'sent'
}

// What `cachesaga saga retry --sagas <this file>` loads.
export default [notifyAfterBooking]
