import { z } from 'zod'
import { defineSaga } from '../definition/define-saga.js'
import type { StepContext } from '../definition/step.js'
import { DomainRejection } from '../errors.js'
import type { EffectLedger } from './effects.js'

/** Called inside a step right after its side effect, before the step returns: the "inside a step" crash point. */
type Checkpoint = (point: string) => void | Promise<void>

export const bookingInput = z.object({
  slot: z.string().min(1),
  /** Makes the pivot reject, so the saga rolls back. */
  rejectAtCommit: z.boolean().default(false),
})

/**
 * A booking saga whose every side effect goes to the test's ledger with the step's idempotency key:
 * hold-slot (release) -> charge (refund) -> commit (pivot) -> notify.
 */
export function bookingSaga(ledger: EffectLedger, checkpoint: Checkpoint = () => {}, retryDelayMs = 5) {
  const effect = (name: string) => async (ctx: StepContext<unknown, unknown>) => {
    await ledger.apply(name, ctx.idempotencyKey)
    await checkpoint(`effect:${name}`)
    return { [name]: ctx.idempotencyKey }
  }
  const retry = { attempts: 3, initialDelay: retryDelayMs, maxDelay: retryDelayMs * 4 }
  return defineSaga('book-appointment', { input: bookingInput })
    .step('hold-slot', {
      run: effect('hold'),
      compensate: async (ctx) => {
        await effect('release')(ctx)
      },
      retry,
    })
    .step('charge', {
      run: effect('charge'),
      compensate: async (ctx) => {
        await effect('refund')(ctx)
      },
      retry,
    })
    .step('commit', {
      kind: 'pivot',
      run: async (ctx) => {
        if (ctx.input.rejectAtCommit) {
          throw new DomainRejection('BOOKING_ERR_SLOT_TAKEN', `slot ${ctx.input.slot} was taken`, {
            slot: ctx.input.slot,
          })
        }
        return effect('commit')(ctx)
      },
      retry,
    })
    .step('notify', { run: effect('notify'), retry })
}
