import { errorCode } from '@cachesaga/common'
import { PostgresSagaStore } from '@cachesaga/postgres'
import {
  createSagaRunner,
  type PhaseRecord,
  type RecordedError,
  SAGA_STATES,
  SagaDefinition,
  type SagaOutcome,
  type SagaRecord,
  type SagaRunner,
  type SagaRunnerOptions,
  type SagaState,
  type SagaStore,
} from '@cachesaga/saga'
import type { Command } from 'commander'
import { z } from 'zod'
import type { CommandContext } from '../command-context.js'
import { parseInput } from '../config/flags.js'
import { importUserModule } from '../config/user-module.js'
import { CliError } from '../errors.js'
import { type CommandResult, count } from '../output/result.js'
import type { CommandModule } from './command.js'

/** The states that wait for a person: what `saga list` shows by default. */
const WAITING: SagaState[] = ['parked', 'compensation_failed']

/** How long the PostgreSQL store waits for a connection and for each statement, as the CLI waits for Redis. */
const DATABASE_TIMEOUT = '5s'

const databaseUrl = z.url({ protocol: /^postgres(ql)?$/, error: 'expected a postgres:// URL' })

/** Where the sagas are: the Redis store (under `--key-prefix`) or the PostgreSQL store (in `--schema`). */
const storeFlags = {
  store: z.enum(['redis', 'postgres']).default('redis'),
  keyPrefix: z.string().min(1, 'must not be empty').default('cachesaga:saga:'),
  database: databaseUrl.optional(),
  schema: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'expected lowercase letters, digits and underscores')
    .default('cachesaga'),
}
type StoreFlags = z.output<z.ZodObject<typeof storeFlags>>

const sagaId = z.string().min(1, 'must not be empty')
const decisionFlags = {
  sagaId,
  actor: z.string().min(1, 'must not be empty'),
  note: z.string().optional(),
  ...storeFlags,
}

const listSchema = z.object({ state: z.array(z.enum(SAGA_STATES)).default(WAITING), ...storeFlags })
const inspectSchema = z.object({ sagaId, ...storeFlags })
const resolveSchema = z.object(decisionFlags)
const retrySchema = z.object({
  ...decisionFlags,
  sagas: z.string().min(1),
  requireDurableStore: z.boolean().default(true),
})
const skipSchema = retrySchema.extend({ step: z.string().min(1, 'must not be empty') })

const stateList = (value: string, previous: string[] | undefined) => [
  ...(previous ?? []),
  ...value.split(','),
]

export const sagaCommand: CommandModule = (program, action) => {
  const saga = program
    .command('saga')
    .description('Sagas that wait for an operator (parked, compensation_failed): list, inspect and decide.')
    .option('--store <kind>', 'where the sagas are: redis (default) or postgres')
    .option('--key-prefix <prefix>', "redis: the runners' saga key prefix (default: cachesaga:saga:)")
    .option('--database <url>', 'postgres: the database (default: $DATABASE_URL)')
    .option('--schema <name>', "postgres: the saga store's schema (default: cachesaga)")

  saga
    .command('list')
    .description('Ids of the sagas in the given states.')
    .option(
      '--state <states>',
      `comma-separated, of ${SAGA_STATES.join(', ')} (default: ${WAITING.join(',')})`,
      stateList,
    )
    .action(
      action(async (context) => {
        const flags = context.input(listSchema)
        const lists = await withRunner(context, flags, [], (runner) =>
          Promise.all(
            flags.state.map(async (state) => ({ state, sagaIds: await runner.operator.list(state) })),
          ),
        )
        return {
          human: lists.map(({ state, sagaIds }) =>
            `${state} (${sagaIds.length}): ${sagaIds.join(' ')}`.trimEnd(),
          ),
          json: { states: lists },
        }
      }),
    )

  saga
    .command('inspect')
    .description('The record (state, per-step status, error) and the whole log of a saga.')
    .argument('<sagaId>')
    .action(
      action(async (context) => {
        const flags = context.input(inspectSchema)
        const found = await withRunner(context, flags, [], (runner) => runner.operator.inspect(flags.sagaId))
        if (!found) throw new CliError('CLI_ERR_FAILED', `no saga "${flags.sagaId}"`)
        const record = recordDocument(found.record)
        // The record's hash has no order; the log has the order the steps ran in.
        const ran = found.log.map((entry) => entry.step)
        const byRun = (phases: Record<string, PhaseRecord>) =>
          Object.entries(phases).sort(([a], [b]) => ran.indexOf(a) - ran.indexOf(b))
        return {
          human: [
            `${found.record.sagaId} (${found.record.name}): ${found.record.state}` +
              (found.record.parkedStep ? `, waiting on ${found.record.parkedStep}` : ''),
            ...(found.record.error ? [`error: ${describeError(found.record.error)}`] : []),
            'steps:',
            ...byRun(record.steps).map(
              ([step, phase]) => `  ${step}: ${phase.status}, ${count(phase.failures, 'failure')}`,
            ),
            ...byRun(record.compensations).map(
              ([step, phase]) =>
                `  ${step} (compensation): ${phase.status}, ${count(phase.failures, 'failure')}`,
            ),
            'log:',
            ...found.log.map(
              (entry) =>
                `  ${new Date(entry.at).toISOString()} ${entry.event}${entry.step ? ` ${entry.step}` : ''}` +
                (entry.actor ? ` by ${entry.actor}` : '') +
                (entry.note ? `: ${entry.note}` : '') +
                (entry.error ? ` (${describeError(entry.error)})` : ''),
            ),
          ],
          json: { record, log: found.log },
        }
      }),
    )

  decisionCommand(saga.command('retry'), { drivesOn: true })
    .description('Give the step the saga waits on a fresh retry budget and drive the saga on.')
    .action(
      action(async (context) => {
        const flags = context.input(retrySchema)
        const definitions = await loadDefinitions(flags.sagas)
        const outcome = await withRunner(context, flags, definitions, (runner) =>
          runner.operator.retry(flags.sagaId, decidedBy(flags)),
        )
        return outcomeResult(outcome)
      }),
    )

  decisionCommand(saga.command('skip'), { drivesOn: true })
    .description('Treat the step the saga waits on as done (or its compensation as applied) and drive on.')
    .requiredOption('--step <name>', 'the step the saga waits on')
    .action(
      action(async (context) => {
        const flags = context.input(skipSchema)
        const definitions = await loadDefinitions(flags.sagas)
        const outcome = await withRunner(context, flags, definitions, (runner) =>
          runner.operator.skip(flags.sagaId, { step: flags.step, ...decidedBy(flags) }),
        )
        return outcomeResult(outcome)
      }),
    )

  decisionCommand(saga.command('resolve'), { drivesOn: false })
    .description('Close the saga as resolved: the work was finished by hand.')
    .action(
      action(async (context) => {
        const flags = context.input(resolveSchema)
        const state = await withRunner(context, flags, [], (runner) =>
          runner.operator.resolve(flags.sagaId, decidedBy(flags)),
        )
        return { human: [`${flags.sagaId}: ${state}`], json: { sagaId: flags.sagaId, state } }
      }),
    )
}

/**
 * What every operator decision takes: the saga, who decided and why (both go to the saga's log),
 * and, when the CLI drives the saga on itself, the module with the definitions.
 */
function decisionCommand(command: Command, { drivesOn }: { drivesOn: boolean }): Command {
  command
    .argument('<sagaId>')
    .requiredOption('--actor <who>', 'who decided (written to the saga log)')
    .option('--note <text>', 'why (written to the saga log)')
  if (drivesOn) {
    command
      .requiredOption('--sagas <module>', 'module whose default export is an array of the saga definitions')
      .option(
        '--no-require-durable-store',
        "drive on, with a warning, when Redis' persistence settings cannot be read (a user without CONFIG GET) or are unsafe",
      )
  }
  return command
}

function decidedBy(flags: { actor: string; note?: string | undefined }): { actor: string; note?: string } {
  return { actor: flags.actor, ...(flags.note !== undefined && { note: flags.note }) }
}

/**
 * A runner that never sweeps: it only carries out the operator's decision, on the store the flags
 * name. When it drives sagas on it gets the cache of `--namespace`, which definitions with
 * invalidation steps need.
 */
async function withRunner<T>(
  context: CommandContext,
  where: StoreFlags & { requireDurableStore?: boolean },
  sagas: SagaDefinition[],
  use: (runner: SagaRunner) => Promise<T>,
): Promise<T> {
  // A Redis store is the runner's own, opened from the CLI's connection (which the CLI closes after
  // the command); a PostgreSQL store is opened and closed here.
  const store = where.store === 'postgres' ? postgresStore(context, where) : undefined
  try {
    const drivesOn = sagas.length > 0
    const cache = drivesOn && context.globals.namespace !== undefined ? await context.cache() : undefined
    const runner = runnerOn(
      store ? { store } : { redis: await context.redis(), keyPrefix: where.keyPrefix },
      sagas,
      cache,
      // A user without CONFIG GET (see "Redis ACL") cannot read the persistence settings; the runner then says so.
      where.requireDurableStore === false
        ? {
            requireDurableStore: false,
            log: (_level, message) => context.io.stderr.write(`cachesaga: warning: ${message}\n`),
          }
        : {},
    )
    try {
      return await use(runner)
    } finally {
      await runner.close()
    }
  } finally {
    await store?.close()
  }
}

/** The PostgreSQL store of `--database` (or DATABASE_URL) and `--schema`. */
function postgresStore(context: CommandContext, where: StoreFlags): SagaStore {
  const fromEnv = context.io.env.DATABASE_URL
  const database =
    where.database ??
    (fromEnv === undefined
      ? undefined
      : parseInput(
          z.object({ DATABASE_URL: databaseUrl }),
          { DATABASE_URL: fromEnv },
          { DATABASE_URL: 'DATABASE_URL' },
        ).DATABASE_URL)
  if (database === undefined) {
    throw new CliError(
      'CLI_ERR_USAGE',
      '--database: no database given for --store postgres; pass --database <url> or set DATABASE_URL',
    )
  }
  return new PostgresSagaStore({
    database,
    schema: where.schema,
    connectTimeout: DATABASE_TIMEOUT,
    queryTimeout: DATABASE_TIMEOUT,
  })
}

function runnerOn(
  store: Pick<SagaRunnerOptions, 'redis' | 'keyPrefix' | 'store'>,
  sagas: SagaDefinition[],
  cache: SagaRunnerOptions['cache'],
  durability: Pick<SagaRunnerOptions, 'requireDurableStore' | 'log'>,
): SagaRunner {
  try {
    return createSagaRunner({ ...store, sagas, ...(cache && { cache }), ...durability })
  } catch (error) {
    // The saga's error says, as data, which option is missing and for which saga.
    const details = (error as { details?: { option?: unknown; saga?: unknown } }).details
    if (errorCode(error) === 'SAGA_ERR_INVALID_OPTIONS' && details?.option === 'cache') {
      throw new CliError(
        'CLI_ERR_USAGE',
        `--namespace: saga "${details.saga}" invalidates the cache: pass --namespace of its cache`,
      )
    }
    throw error
  }
}

async function loadDefinitions(modulePath: string): Promise<SagaDefinition[]> {
  const sagas = (await importUserModule(modulePath, '--sagas')).default
  if (!Array.isArray(sagas) || !sagas.every((saga) => saga instanceof SagaDefinition)) {
    throw new CliError(
      'CLI_ERR_USAGE',
      `--sagas: ${modulePath}: the default export is not an array of saga definitions`,
    )
  }
  return sagas
}

/** Exit 1 when the saga is waiting for a person again: the decision did not get it to rest. */
function outcomeResult(outcome: SagaOutcome): CommandResult {
  const waiting = WAITING.includes(outcome.state)
  const where = outcome.parkedStep ? ` on ${outcome.parkedStep}` : ''
  const why = outcome.error ? `: ${describeError(outcome.error)}` : ''
  return {
    human: [`${outcome.sagaId}: ${outcome.state}${waiting ? `${where}${why}` : ''}`],
    json: outcome,
    ...(waiting && { exitCode: 1 as const }),
  }
}

/** A recorded failure for a person: its code (a field, never parsed from the message), then the message. */
function describeError(error: RecordedError): string {
  return `${error.code}${error.domainCode ? ` (${error.domainCode})` : ''}: ${error.message}`
}

function recordDocument(record: SagaRecord) {
  return {
    ...record,
    steps: Object.fromEntries(record.steps),
    compensations: Object.fromEntries(record.compensations),
  }
}
