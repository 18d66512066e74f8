import type { Command } from 'commander'
import type { CommandContext } from '../command-context.js'
import type { CommandResult } from '../output/result.js'

/** Turns a command's handler into a commander action: parses globals, writes the result, closes connections. */
export type ActionBinder = (
  handler: (context: CommandContext) => Promise<CommandResult>,
) => (...commanderArgs: unknown[]) => Promise<void>

/** A top-level command: adds itself (and its subcommands) to the program. */
export type CommandModule = (program: Command, action: ActionBinder) => void
