import { readFileSync } from 'node:fs'
import { errorCode } from '@cachesaga/common'
import { Command, CommanderError } from 'commander'
import { CommandContext } from './command-context.js'
import { checkCommand } from './commands/check.js'
import { clearCommand } from './commands/clear.js'
import { clearAllCommand } from './commands/clear-all.js'
import type { ActionBinder, CommandModule } from './commands/command.js'
import { dlqCommand } from './commands/dlq.js'
import { healthCommand } from './commands/health.js'
import { invalidateCommand } from './commands/invalidate.js'
import { sagaCommand } from './commands/saga.js'
import { statsCommand } from './commands/stats.js'
import { warmCommand } from './commands/warm.js'
import { parseGlobals } from './config/globals.js'
import { type ExitCode, exitCodeOf } from './exit-codes.js'
import type { CliIo } from './io.js'
import { writeError, writeResult } from './output/result.js'

/** This package's version, read from the package.json shipped next to `dist/`. */
const VERSION = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version

/** Every top-level command, in help order. */
const COMMANDS: readonly CommandModule[] = [
  clearCommand,
  invalidateCommand,
  clearAllCommand,
  statsCommand,
  healthCommand,
  checkCommand,
  warmCommand,
  dlqCommand,
  sagaCommand,
]

/**
 * Runs one `cachesaga` command line (`argv` without node and the script) and resolves with its exit
 * code: 0 ok, 1 the operation failed, 2 bad usage. It never calls `process.exit` and never rejects.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  let exitCode: ExitCode = 0
  const program = new Command('cachesaga')
    .description('Operate cachesaga caches, queues and sagas.')
    .version(VERSION, '--version', 'print the version of @cachesaga/cli')
    .option('--redis <url>', 'Redis URL (default: $REDIS_URL)')
    .option('--namespace <name>', 'the cache namespace')
    .option('--tenant <id>', 'the tenant within the namespace')
    .option('--json', 'print one JSON document on stdout instead of text')
    .exitOverride()
    .configureHelp({ showGlobalOptions: true })
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      // Errors are written once, below, in the output mode the user chose.
      outputError: () => {},
    })

  const action: ActionBinder =
    (handler) =>
    async (...commanderArgs) => {
      const command = commanderArgs.at(-1) as Command
      const context = new CommandContext(parseGlobals(program.opts(), io.env), io, command)
      try {
        exitCode = writeResult(io, context.globals.json, await handler(context))
      } finally {
        await context.close()
      }
    }
  for (const register of COMMANDS) register(program, action)

  try {
    await program.parseAsync([...argv], { from: 'user' })
  } catch (error) {
    exitCode = exitCodeOf(error)
    // Help was asked for (or shown for a missing subcommand): commander has already printed it.
    if (error instanceof CommanderError && error.code === 'commander.help') return 2
    if (error instanceof CommanderError && error.code === 'commander.version') return 0
    if (exitCode !== 0) writeError(io, argv.includes('--json'), describeError(error))
  }
  return exitCode
}

function describeError(error: unknown): { code?: string; message: string; report?: unknown } {
  if (error instanceof CommanderError) {
    return { code: 'CLI_ERR_USAGE', message: `${error.message.replace(/^error: /, '')} (see --help)` }
  }
  const message = error instanceof Error ? error.message : String(error)
  const report = (error as { report?: unknown } | undefined)?.report
  const code = errorCode(error)
  return { ...(code !== undefined && { code }), message, ...(report !== undefined && { report }) }
}
