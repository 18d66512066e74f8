import { setTimeout as sleep } from 'node:timers/promises'
import { inspect } from 'node:util'
import { z } from 'zod'
import { TestkitError } from './errors.js'
import { parseInput } from './parse-input.js'

export interface EventuallyOptions {
  /** How long to keep probing before failing, in milliseconds. Default 10 000. */
  timeoutMs?: number
  /** Pause between the end of one probe and the start of the next, in milliseconds. Default 20. */
  intervalMs?: number
  /**
   * Asked before every probe; an error it returns is thrown at once. For waits that can become hopeless
   * before the deadline, such as a process that exited while the test waits for it to be ready.
   */
  giveUp?: () => Error | undefined
}

/** What `eventually` resolves with: the probe's first answer that was not falsy. */
export type Settled<T> = Exclude<Awaited<T>, false | 0 | '' | null | undefined>

const optionsSchema = z.strictObject({
  timeoutMs: z.number().positive().finite().default(10_000),
  intervalMs: z.number().min(0).finite().default(20),
  giveUp: z
    .custom<() => Error | undefined>((value) => typeof value === 'function', 'expected a function')
    .optional(),
})

const STILL_RUNNING = Symbol('still running')

/** One short line for a value in a failure message. */
function describe(value: unknown): string {
  const text = inspect(value, { depth: 2, breakLength: Number.POSITIVE_INFINITY })
  return text.length > 300 ? `${text.slice(0, 300)}...` : text
}

/**
 * Probes until `probe` answers with a value that is not falsy, and resolves with that value. A probe that
 * throws (a failed `expect`, a refused connection) or answers `false`, `0`, `''`, `null` or `undefined` means
 * "not yet". Past `timeoutMs` it rejects with `TestkitError` code `TESTKIT_ERR_TIMEOUT`: the message says what
 * was awaited, how many probes ran and what the last one threw or answered (the thrown error is also the
 * `cause`). A probe still running at the deadline is not awaited any longer, so the wait is always bounded.
 *
 * A probe made of assertions returns `true` after them: `eventually('the job ran', async () => {
 * expect(await runs()).toBe(1); return true })`.
 */
export async function eventually<T>(
  what: string,
  probe: () => T | Promise<T>,
  options: EventuallyOptions = {},
): Promise<Settled<T>> {
  const { timeoutMs, intervalMs, giveUp } = parseInput(optionsSchema, options, 'eventually.options')
  const deadline = Date.now() + timeoutMs
  let timer: NodeJS.Timeout | undefined
  // The timer and Date.now() are different clocks: the timer may fire a moment before Date.now() reaches the
  // deadline. A probe started then would lose the race at once and read as still running.
  let passed = false
  const deadlinePassed = new Promise<typeof STILL_RUNNING>((resolve) => {
    timer = setTimeout(() => {
      passed = true
      resolve(STILL_RUNNING)
    }, timeoutMs)
  })
  let probes = 0
  let last: { threw: unknown } | { answered: unknown } | undefined
  try {
    for (;;) {
      const hopeless = giveUp?.()
      if (hopeless) throw hopeless
      // No probe starts at the deadline: it would have no time to answer.
      if (probes > 0 && (passed || Date.now() >= deadline))
        throw timedOut(what, timeoutMs, probes, undefined, last)
      probes++
      const outcome = await Promise.race([
        Promise.resolve()
          .then(probe)
          .then(
            (answered) => ({ answered }),
            (threw: unknown) => ({ threw }),
          ),
        deadlinePassed,
      ])
      if (outcome === STILL_RUNNING) {
        throw timedOut(what, timeoutMs, probes, 'the last probe was still running at the deadline', last)
      }
      if ('answered' in outcome && outcome.answered) return outcome.answered as Settled<T>
      last = outcome
      await sleep(Math.max(0, Math.min(intervalMs, deadline - Date.now())))
    }
  } finally {
    clearTimeout(timer)
  }
}

function timedOut(
  what: string,
  timeoutMs: number,
  probes: number,
  stillRunning: string | undefined,
  last: { threw: unknown } | { answered: unknown } | undefined,
): TestkitError {
  const outcome =
    last === undefined
      ? undefined
      : 'threw' in last
        ? `threw ${last.threw instanceof Error ? last.threw.message : describe(last.threw)}`
        : `answered ${describe(last.answered)}`
  const story = stillRunning
    ? `${stillRunning}${outcome ? ` (the one before it ${outcome})` : ''}`
    : `the last probe ${outcome}`
  return new TestkitError(
    'TESTKIT_ERR_TIMEOUT',
    `${what}: not within ${timeoutMs} ms (${probes} ${probes === 1 ? 'probe' : 'probes'}); ${story}`,
    {
      cause: last !== undefined && 'threw' in last ? last.threw : undefined,
      details: { what, timeoutMs, probes },
    },
  )
}
