import type { InvalidationKind, InvalidationTarget } from '@cachesaga/core'
import { z } from 'zod'
import { repeatable } from '../config/flags.js'
import { count } from '../output/result.js'
import type { CommandModule } from './command.js'
import { busWarnings, reportDocument } from './invalidation-report.js'

/** `name` or `name:[jsonArgs]`: whatever follows the first ':[' must be the JSON array of arguments. */
const querySchema = z.string().transform((text, context) => {
  const split = text.indexOf(':[')
  if (split === -1) return { name: text }
  const name = text.slice(0, split)
  try {
    const args: unknown = JSON.parse(text.slice(split + 1))
    if (Array.isArray(args)) return { name, args }
  } catch {}
  context.addIssue({ code: 'custom', message: `the arguments of ${name} are not a JSON array` })
  return z.NEVER
})

const nonEmpty = z.string().min(1, 'must not be empty')

const flagsSchema = z
  .object({
    key: z.array(nonEmpty).optional(),
    tag: z.array(nonEmpty).optional(),
    scope: z.array(nonEmpty).optional(),
    query: z.array(querySchema).optional(),
    dryRun: z.boolean().default(false),
  })
  .refine((flags) => flags.key ?? flags.tag ?? flags.scope ?? flags.query, {
    message: 'nothing to invalidate: give at least one --key, --tag, --scope or --query',
    path: ['key'],
  })

const NOUNS: Record<InvalidationKind, [string, string]> = {
  keys: ['key', 'keys'],
  tags: ['tag', 'tags'],
  patterns: ['pattern', 'patterns'],
  scopes: ['scope', 'scopes'],
  queries: ['query', 'queries'],
}

export const invalidateCommand: CommandModule = (program, action) => {
  program
    .command('invalidate')
    .description(
      'Invalidate entries by key, tag, scope or cached function, everywhere (L2 and, over the bus, L1).',
    )
    .option('--key <key>', 'an exact cache key (repeatable)', repeatable)
    .option('--tag <tag>', 'a tag given when entries were written (repeatable)', repeatable)
    .option(
      '--scope <path>',
      "a scope path such as 'tenant:acme/branch:3', with everything beneath it (repeatable)",
      repeatable,
    )
    .option(
      '--query <name[:jsonArgs]>',
      "a cached function, or one call of it: getServices, 'getSlots:[7]' (repeatable)",
      repeatable,
    )
    .option('--dry-run', 'validate and count; change nothing')
    .action(
      action(async (context) => {
        const flags = context.input(flagsSchema)
        const target: InvalidationTarget = {
          ...(flags.key && { keys: flags.key }),
          ...(flags.tag && { tags: flags.tag }),
          ...(flags.scope && { scopes: flags.scope }),
          ...(flags.query && { queries: flags.query }),
        }
        const cache = await context.cache()
        const report = await cache.invalidate(target, { dryRun: flags.dryRun })
        const counts = (Object.keys(NOUNS) as InvalidationKind[])
          .filter((kind) => report.counts[kind] > 0)
          .map((kind) => count(report.counts[kind], ...NOUNS[kind]))
        return {
          human: [
            `${report.dryRun ? 'would invalidate' : 'invalidated'} ${counts.join(', ')} in ${context.namespaceLabel}`,
          ],
          json: reportDocument(context, report),
          warnings: busWarnings(report),
        }
      }),
    )
}
