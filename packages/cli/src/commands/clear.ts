import { errorCode } from '@cachesaga/common'
import type { InvalidationReport } from '@cachesaga/core'
import { z } from 'zod'
import { repeatable } from '../config/flags.js'
import { CliError } from '../errors.js'
import { startProgress } from '../output/progress.js'
import { count } from '../output/result.js'
import type { CommandModule } from './command.js'
import { busWarnings, reportDocument } from './invalidation-report.js'

/** Above this many keys in the database a pattern scan takes long enough to deserve a progress line. */
const LARGE_KEYSPACE = 10_000

const flagsSchema = z.object({
  pattern: z.array(z.string(), { error: 'at least one --pattern is required' }),
  dryRun: z.boolean().default(false),
  all: z.boolean().default(false),
})

export const clearCommand: CommandModule = (program, action) => {
  program
    .command('clear')
    .description('Delete the entries whose keys match glob patterns (SCAN, never KEYS).')
    .option(
      '--pattern <glob>',
      "a glob over the namespace's keys (repeatable): * any run, ? one character",
      repeatable,
    )
    .option('--dry-run', 'count and sample what would be deleted; change nothing')
    .option('--all', 'allow a pattern that matches every key')
    .addHelpText(
      'after',
      "\nExample:\n  cachesaga clear --namespace booking --pattern 'patch:*' --pattern 'ghost:session:*'",
    )
    .action(
      action(async (context) => {
        const flags = context.input(flagsSchema)
        const cache = await context.cache()
        const keyspace = await (await context.redis()).dbsize()
        const progress =
          keyspace >= LARGE_KEYSPACE
            ? startProgress(
                context.io.stderr,
                `scanning ${keyspace} keys for ${count(flags.pattern.length, 'pattern')}`,
              )
            : undefined
        let report: InvalidationReport
        // Each pattern walks the whole keyspace once; the bar shows the share of those walks done.
        const walks = keyspace * flags.pattern.length
        const walked = new Map<string, number>()
        try {
          report = await cache.invalidate(
            { patterns: flags.pattern },
            {
              dryRun: flags.dryRun,
              all: flags.all,
              // Each pattern walks the keyspace: core's default deadline (2 s) is for a booking's invalidation,
              // not for an operator's walk of millions of keys. A millisecond per key walked is far more than needed.
              timeout: 2_000 + walks,
              ...(progress && {
                onProgress: ({ pattern, scanned }) => {
                  walked.set(pattern, scanned)
                  let total = 0
                  for (const value of walked.values()) total += value
                  progress.update(total / walks)
                },
              }),
            },
          )
        } catch (error) {
          if (errorCode(error) === 'CS_ERR_MATCH_ALL_REFUSED') {
            // Matched by code (see exit-codes.ts); the error carries the refused pattern.
            const { pattern } = error as { pattern?: string }
            throw new CliError(
              'CLI_ERR_USAGE',
              `--pattern '${pattern}' matches every key of ${context.namespaceLabel}; pass --all if that is meant`,
            )
          }
          throw error
        } finally {
          progress?.stop()
        }
        return {
          human: clearedLines(report),
          json: reportDocument(context, report),
          warnings: busWarnings(report),
        }
      }),
    )
}

/** "cleared 0 patch keys and 1 session keys", then in a dry run a sample per pattern. */
function clearedLines(report: InvalidationReport): string[] {
  const labels = report.patterns.map((item) => label(item.pattern))
  const unique = new Set(labels).size === labels.length
  const parts = report.patterns.map(
    (item, index) => `${item.matched} ${unique ? labels[index] : `'${item.pattern}'`} keys`,
  )
  const lines = [`${report.dryRun ? 'would clear' : 'cleared'} ${sentence(parts)}`]
  if (report.dryRun) {
    for (const item of report.patterns) {
      const sample = item.sample.length > 0 ? `, e.g. ${item.sample.join(', ')}` : ''
      lines.push(`  '${item.pattern}': ${count(item.matched, 'key')}${sample}`)
    }
  }
  return lines
}

/** The last word of a pattern's literal prefix: 'ghost:session:*' -> 'session'. */
function label(pattern: string): string {
  const literal = pattern.split(/[*?\\]/)[0] ?? ''
  const words = literal.split(':').filter((word) => /[a-z]/i.test(word))
  return words.at(-1) ?? `'${pattern}'`
}

function sentence(parts: string[]): string {
  if (parts.length <= 1) return parts.join('')
  return `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)}`
}
