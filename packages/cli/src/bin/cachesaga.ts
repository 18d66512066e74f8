import { processIo } from '../io.js'
import { runCli } from '../program.js'

// exitCode rather than exit(): pending writes to a piped stdout are flushed first.
process.exitCode = await runCli(process.argv.slice(2), processIo())
