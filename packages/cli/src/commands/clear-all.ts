import { errorCode } from '@cachesaga/common'
import { CLEAR_TOKEN_LIFETIME_MS } from '@cachesaga/core'
import { confirmationFlags, confirmed } from '../confirmation.js'
import { CliError } from '../errors.js'
import { count } from '../output/result.js'
import type { CommandModule } from './command.js'
import { busWarnings, reportDocument } from './invalidation-report.js'

export const clearAllCommand: CommandModule = (program, action) => {
  program
    .command('clear-all')
    .description(
      'Emergency clear of every entry of a namespace (or tenant), confirmed by a single-use token.',
    )
    .option('--token <token>', 'a token from --request-token (valid for 60 s, once)')
    .option('--request-token', 'print a token for a later --token, for scripts without a terminal')
    .addHelpText(
      'after',
      '\nOn a terminal it shows a token and asks you to type it. Without one:\n' +
        '  cachesaga clear-all --namespace booking --request-token\n' +
        '  cachesaga clear-all --namespace booking --token <token>',
    )
    .action(
      action(async (context) => {
        const flags = context.input(confirmationFlags)
        const cache = await context.cache()
        const { namespace, tenant } = context.globals
        const scopeFlags = `--namespace ${namespace}${tenant === undefined ? '' : ` --tenant ${tenant}`}`
        if (flags.requestToken) {
          const token = await cache.requestClearToken()
          return {
            human: [
              `token to clear ${context.namespaceLabel}, valid once for ${CLEAR_TOKEN_LIFETIME_MS / 1000} s: ${token}`,
              `run: cachesaga clear-all ${scopeFlags} --token ${token}`,
            ],
            json: {
              namespace,
              ...(tenant !== undefined && { tenant }),
              token,
              expiresInMs: CLEAR_TOKEN_LIFETIME_MS,
            },
          }
        }
        const report = await confirmed(context, {
          token: flags.token,
          request: async () => ({
            token: await cache.requestClearToken(),
            what: `This deletes every entry of ${context.namespaceLabel} on every instance.`,
          }),
          perform: async (token) => {
            // Core keeps the token in Redis: the one this or another process issued is consumed here.
            try {
              return await cache.clear({ token })
            } catch (error) {
              if (errorCode(error) !== 'CS_ERR_CLEAR_TOKEN') throw error
              throw new CliError(
                'CLI_ERR_NOT_CONFIRMED',
                'the token is unknown, used or expired; nothing was deleted',
              )
            }
          },
          howTo: `run \`cachesaga clear-all ${scopeFlags} --request-token\`, then pass the token it prints with --token within ${CLEAR_TOKEN_LIFETIME_MS / 1000} s`,
        })
        return {
          human: [`cleared ${context.namespaceLabel}: removed ${count(report.removed, 'entry', 'entries')}`],
          json: reportDocument(context, report),
          warnings: busWarnings(report),
        }
      }),
    )
}
