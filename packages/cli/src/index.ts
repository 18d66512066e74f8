export type { ExitCode } from './exit-codes.js'
export type { CliIo } from './io.js'
export { runCli } from './program.js'
