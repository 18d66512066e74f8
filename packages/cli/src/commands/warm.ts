import type { WarmDefinition } from '@cachesaga/core'
import { z } from 'zod'
import { repeatable } from '../config/flags.js'
import { exportOf, importUserModule } from '../config/user-module.js'
import { CliError } from '../errors.js'
import type { CommandModule } from './command.js'

const flagsSchema = z.object({
  warmers: z.string().min(1, 'must name a module'),
  name: z.array(z.string().min(1)).optional(),
  subject: z.array(z.string().min(1)).optional(),
  concurrency: z.coerce.number().int().positive().optional(),
})

/** The module's `warmers` (or default) export: definitions by name, checked by core on registration. */
const warmersSchema = z.record(
  z.string(),
  z.custom<WarmDefinition>((value) => typeof value === 'object' && value !== null),
)

export const warmCommand: CommandModule = (program, action) => {
  program
    .command('warm')
    .description('Warm registered keys now. Exit 0 when every key loaded, 1 when a loader failed.')
    .requiredOption(
      '--warmers <module>',
      'a module exporting `warmers`: { name: { keys | producer, loader, ... } }',
    )
    .option('--name <name>', 'warm only this definition (repeatable; default all, by priority)', repeatable)
    .option('--subject <id>', 'a tenant or user id passed to producers (repeatable)', repeatable)
    .option('--concurrency <n>', 'loaders in flight at most (default 5)')
    .action(
      action(async (context) => {
        const flags = context.input(flagsSchema)
        const exported = warmersSchema.safeParse(
          exportOf(await importUserModule(flags.warmers, '--warmers'), 'warmers'),
        )
        if (!exported.success)
          throw new CliError(
            'CLI_ERR_USAGE',
            `--warmers: ${flags.warmers} must export warmers: { name: definition }`,
          )
        const cache = await context.cache()
        for (const [name, definition] of Object.entries(exported.data))
          cache.warmer.register(name, definition)
        // A value loaded but not written (Redis refused the fill: a read-only user, an outage) warmed nothing.
        const redisErrors: string[] = []
        const onError = ({ operation, error }: { operation: string; error: unknown }) => {
          if (operation.startsWith('l2.'))
            redisErrors.push(error instanceof Error ? error.message : String(error))
        }
        cache.on('error', onError)
        const reports = await cache.warmer
          .warm(flags.name, {
            ...(flags.subject && { subjects: flags.subject }),
            ...(flags.concurrency !== undefined && { concurrency: flags.concurrency }),
          })
          .finally(() => cache.off('error', onError))
        const failed = reports.reduce((sum, report) => sum + report.failed, 0)
        return {
          human: reports.map(
            (r) =>
              `${r.name}: ${r.keys} keys, ${r.loaded} loaded, ${r.cached} already cached, ${r.failed} failed`,
          ),
          json: { namespace: context.globals.namespace, reports, redisErrors: redisErrors.length },
          warnings:
            redisErrors.length === 0
              ? []
              : [
                  `Redis failed ${redisErrors.length} reads or writes, so keys may not be cached: ${redisErrors[0]}`,
                ],
          exitCode: failed > 0 || redisErrors.length > 0 ? 1 : 0,
        }
      }),
    )
}
