import type { InvalidationKind, InvalidationReport, InvalidationTarget } from '@cachesaga/core'
import { z } from 'zod'
import { repeatable } from '../config/flags.js'
import { count } from '../output/result.js'
import type { CommandModule } from './command.js'
import { busWarnings, reportDocument } from './invalidation-report.js'

const QUERY_FORM =
  "expected a cached function's name, or name:[JSON array of arguments] such as 'getSlots:[7]'"

/**
 * `name` or `name:[jsonArgs]`. Names may contain ':', so what follows the last ':' is arguments only when it
 * reads as JSON: an array is the call's arguments; any other JSON value (`getSlots:7`) is a usage error rather
 * than a silent invalidation of a function named `getSlots:7` that was never cached.
 */
const querySchema = z.string().transform((text, context) => {
  const split = text.lastIndexOf(':')
  const rest = split === -1 ? '' : text.slice(split + 1)
  if (split > 0 && rest.length > 0) {
    let args: unknown
    let parsed = true
    try {
      args = JSON.parse(rest)
    } catch {
      parsed = false
    }
    if (parsed && Array.isArray(args)) return { name: text.slice(0, split), args }
    if (parsed || rest.startsWith('[')) {
      context.addIssue({ code: 'custom', message: `${JSON.stringify(text)}: ${QUERY_FORM}` })
      return z.NEVER
    }
  }
  if (text.length === 0) {
    context.addIssue({ code: 'custom', message: QUERY_FORM })
    return z.NEVER
  }
  return { name: text }
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
        // Core counts what matched: a key with an entry, a tag, scope or function something was written with.
        const counts = (Object.keys(NOUNS) as InvalidationKind[])
          .filter((kind) => report.counts[kind] > 0)
          .map((kind) => count(report.counts[kind], ...NOUNS[kind]))
        const verb = report.dryRun ? 'would invalidate' : 'invalidated'
        return {
          human: [
            `${verb} ${counts.length > 0 ? counts.join(', ') : 'nothing'} in ${context.namespaceLabel}`,
          ],
          json: reportDocument(context, report),
          warnings: [...unmatchedWarnings(report), ...busWarnings(report)],
        }
      }),
    )
}

/** Targets that matched nothing are usually typos (`staf:7`), or names never cached: say which. */
function unmatchedWarnings(report: InvalidationReport): string[] {
  if (report.unmatched.length === 0) return []
  const named = report.unmatched.map(({ kind, target }) => `${NOUNS[kind][0]} '${target}'`)
  return [`matched nothing (never cached, or misspelt?): ${named.join(', ')}`]
}
