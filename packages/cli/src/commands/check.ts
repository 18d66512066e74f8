import type { Verifier } from '@cachesaga/core'
import { z } from 'zod'
import { exportOf, importUserModule } from '../config/user-module.js'
import { CliError } from '../errors.js'
import { count } from '../output/result.js'
import type { CommandModule } from './command.js'

const flagsSchema = z.object({
  level: z.enum(['light', 'medium', 'heavy']).default('light'),
  heal: z.boolean().default(false),
  verifiers: z.string().min(1, 'must name a module'),
  sample: z.coerce.number().int().positive().default(100),
})

/** The module's `verifiers` (or default) export: an array of verifiers, checked by core on registration. */
const verifiersSchema = z
  .array(z.custom<Verifier>((value) => typeof value === 'object' && value !== null))
  .min(1)

export const checkCommand: CommandModule = (program, action) => {
  program
    .command('check')
    .description(
      'Compare sampled cache entries with the source of truth. Exit 0 consistent (or all healed with --heal), 1 inconsistencies found.',
    )
    .requiredOption('--verifiers <module>', 'a module exporting `verifiers`: [{ match, load, external? }]')
    .option('--level <level>', 'light (Redis), medium (+ every live L1), heavy (+ external providers)')
    .option('--heal', 'invalidate every inconsistent key found')
    .option('--sample <n>', 'how many Redis entries (and L1 keys per instance) to sample')
    .action(
      action(async (context) => {
        const flags = context.input(flagsSchema)
        const exported = verifiersSchema.safeParse(
          exportOf(await importUserModule(flags.verifiers, '--verifiers'), 'verifiers'),
        )
        if (!exported.success)
          throw new CliError(
            'CLI_ERR_USAGE',
            `--verifiers: ${flags.verifiers} must export verifiers: an array`,
          )
        const cache = await context.cache()
        for (const verifier of exported.data) cache.checker.register(verifier)
        const report = await cache.checker.check({
          level: flags.level,
          heal: flags.heal,
          sample: flags.sample,
        })
        const found = report.inconsistencies.length
        return {
          human: [
            `${flags.level} check of ${context.namespaceLabel}: ${report.consistencyPercent}% consistent ` +
              `(${count(report.checked, 'copy', 'copies')} checked, ${count(report.sampled, 'key')} sampled), ` +
              `staleness ${report.stalenessScore}/100`,
            ...report.inconsistencies.map(
              (item) => `inconsistent: ${item.key} in ${item.tier} (${item.instance})`,
            ),
            ...(report.healed.length > 0
              ? [`healed: invalidated ${count(report.healed.length, 'key')}`]
              : []),
            ...report.recommendations.map((advice) => `recommendation: ${advice}`),
          ],
          json: report,
          exitCode: found > 0 && !flags.heal ? 1 : 0,
        }
      }),
    )
}
