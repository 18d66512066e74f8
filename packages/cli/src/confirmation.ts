import { z } from 'zod'
import type { CommandContext } from './command-context.js'
import { CliError } from './errors.js'

/** The flags of every confirmed command: a token from an earlier run, or a request for one. */
export const confirmationFlags = z
  .object({
    token: z.string().min(1, 'must not be empty').optional(),
    requestToken: z.boolean().default(false),
  })
  .refine((flags) => !(flags.token !== undefined && flags.requestToken), {
    message: 'give either --request-token or --token, not both',
    path: ['token'],
  })

/** How a destructive command learns it may go ahead. */
export interface Confirmation<T> {
  /** The token the user passed with `--token`, if any. */
  token: string | undefined
  /** Issues a token and says what it would allow, for the interactive question. */
  request(): Promise<{ token: string; what: string }>
  /** Does the work; the token is checked by the package that issued it, so a wrong one changes nothing. */
  perform(token: string): Promise<T>
  /** The two commands to run when there is no terminal, for the refusal message. */
  howTo: string
}

/** `--token` goes straight through; otherwise a person at a terminal must type the token back. */
export async function confirmed<T>(context: CommandContext, confirmation: Confirmation<T>): Promise<T> {
  if (confirmation.token !== undefined) return confirmation.perform(confirmation.token)
  const prompt = context.io.prompt
  if (prompt === undefined) {
    throw new CliError(
      'CLI_ERR_NOT_CONFIRMED',
      `refusing without confirmation, and there is no terminal to ask on: ${confirmation.howTo}`,
    )
  }
  const { token, what } = await confirmation.request()
  const answer = await prompt(`${what}\nType ${token} to confirm: `)
  if (answer !== token)
    throw new CliError('CLI_ERR_NOT_CONFIRMED', 'the token did not match; nothing was changed')
  return confirmation.perform(answer)
}
