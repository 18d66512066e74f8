import { DEFAULT_QUEUE_PREFIX, type DeadLetter, QueueAdmin } from '@cachesaga/queue'
import { z } from 'zod'
import type { CommandContext } from '../command-context.js'
import { confirmationFlags, confirmed } from '../confirmation.js'
import { count } from '../output/result.js'
import type { CommandModule } from './command.js'
import { discoverQueues, existingQueue } from './queue-names.js'

// Any queue an app's catalog routes to, found under the prefix (see queue-names.ts), not a fixed list.
const queue = z.string().min(1, 'must not be empty')
const prefix = z.string().min(1, 'must not be empty').default(DEFAULT_QUEUE_PREFIX)

const listSchema = z.object({
  queue: queue.optional(),
  limit: z.coerce.number().int().positive().default(100),
  prefix,
})
const retrySchema = z
  .object({ queue, jobIds: z.array(z.string().min(1)), all: z.boolean().default(false), prefix })
  .refine((flags) => flags.all !== flags.jobIds.length > 0, {
    message: 'give job ids or --all (one of them)',
    path: ['jobIds'],
  })
const purgeSchema = z.object({ queue, prefix }).and(confirmationFlags)

/** Runs `use` with the admin of the queues under `prefix`; Redis is checked first so a dead server fails fast. */
async function withAdmin<T>(
  context: CommandContext,
  queuePrefix: string,
  use: (admin: QueueAdmin) => Promise<T>,
) {
  await context.redis()
  const admin = new QueueAdmin({ redis: context.redisUrl, prefix: queuePrefix })
  try {
    return await use(admin)
  } finally {
    await admin.close()
  }
}

export const dlqCommand: CommandModule = (program, action) => {
  const dlq = program
    .command('dlq')
    .description("Dead letters: queue jobs that used up their attempts (BullMQ's failed sets).")
    .option(
      '--prefix <prefix>',
      `queue key prefix, as given to the workers (default: ${DEFAULT_QUEUE_PREFIX})`,
    )
  dlq
    .command('list')
    .description('List dead letters with their reasons, most recent first.')
    .argument('[queue]', 'a queue under --prefix (default: every queue found there)')
    .option('--limit <n>', 'at most this many per queue (default: 100)')
    .action(
      action(async (context) => {
        const flags = context.input(listSchema)
        const queues =
          flags.queue === undefined
            ? await discoverQueues(context, flags.prefix)
            : [await existingQueue(context, flags.prefix, flags.queue)]
        const lists = await withAdmin(context, flags.prefix, (admin) =>
          Promise.all(
            queues.map(async (name) => ({
              queue: name,
              deadLetters: await admin.deadLetters(name, flags.limit),
            })),
          ),
        )
        return {
          human:
            lists.length === 0
              ? [`no queues under prefix ${flags.prefix}`]
              : lists.flatMap(({ queue: name, deadLetters }) => [
                  `${name}: ${count(deadLetters.length, 'dead letter')}`,
                  ...deadLetters.map(describeLetter),
                ]),
          json: { queues: lists },
        }
      }),
    )

  dlq
    .command('retry')
    .description('Send dead letters back to the workers.')
    .argument('<queue>', 'a queue under --prefix, e.g. booking or cache-invalidation')
    .argument('[jobIds...]', 'the jobs to retry')
    .option('--all', 'retry every dead letter of the queue')
    .action(
      action(async (context) => {
        const flags = context.input(retrySchema)
        await existingQueue(context, flags.prefix, flags.queue)
        await withAdmin(context, flags.prefix, async (admin) => {
          if (flags.all) await admin.retryAll(flags.queue)
          else for (const jobId of flags.jobIds) await admin.retry(flags.queue, jobId)
        })
        const what = flags.all ? 'every dead letter' : count(flags.jobIds.length, 'job')
        return {
          human: [`${flags.queue}: sent ${what} back to the workers`],
          json: { queue: flags.queue, retried: flags.all ? 'all' : flags.jobIds },
        }
      }),
    )

  dlq
    .command('purge')
    .description('Delete the dead letters of a queue, confirmed by a single-use token.')
    .argument('<queue>', 'a queue under --prefix, e.g. booking or cache-invalidation')
    .option('--token <token>', 'a token from --request-token (valid for 60 s, once)')
    .option(
      '--request-token',
      'print a token and how many jobs it would delete, for scripts without a terminal',
    )
    .action(
      action(async (context) => {
        const flags = context.input(purgeSchema)
        await existingQueue(context, flags.prefix, flags.queue)
        return withAdmin(context, flags.prefix, async (admin) => {
          if (flags.requestToken) {
            const request = await admin.requestPurge(flags.queue)
            return {
              human: [
                `token to purge ${count(request.count, 'dead letter')} of ${flags.queue}, valid once for ${request.expiresInMs / 1000} s: ${request.token}`,
                `run: cachesaga dlq purge ${flags.queue} --token ${request.token}`,
              ],
              json: { queue: flags.queue, ...request },
            }
          }
          const purged = await confirmed(context, {
            token: flags.token,
            request: async () => {
              const request = await admin.requestPurge(flags.queue)
              return {
                token: request.token,
                what: `This deletes ${count(request.count, 'dead letter')} of ${flags.queue}.`,
              }
            },
            perform: (token) => admin.purge(flags.queue, token),
            howTo: `run \`cachesaga dlq purge ${flags.queue} --request-token\`, then pass the token it prints with --token within 60 s`,
          })
          return {
            human: [`${flags.queue}: purged ${count(purged, 'dead letter')}`],
            json: { queue: flags.queue, purged },
          }
        })
      }),
    )
}

function describeLetter(letter: DeadLetter): string {
  const failedAt = letter.failedAt === undefined ? 'unknown' : new Date(letter.failedAt).toISOString()
  const reason = letter.failedReason.split('\n')[0]
  return `  ${letter.jobId}  ${letter.name}  attempts ${letter.attemptsMade}  failed ${failedAt}  ${reason}`
}
