import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { CliError } from '../errors.js'

/** The exports of the operator's module at `path` (relative to the working directory); `flag` names it in errors. */
export async function importUserModule(path: string, flag: string): Promise<Record<string, unknown>> {
  try {
    return await import(pathToFileURL(resolve(path)).href)
  } catch (error) {
    throw new CliError('CLI_ERR_USAGE', `${flag}: cannot load ${path}: ${(error as Error).message}`)
  }
}

/** The module's export `name`, or its default export. */
export function exportOf(module: Record<string, unknown>, name: string): unknown {
  return module[name] ?? module.default
}
