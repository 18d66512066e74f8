import { createInterface } from 'node:readline/promises'

/** Where the CLI reads and writes; `runCli` takes one so tests and embedders can capture everything. */
export interface CliIo {
  /** Results only: human text, or one JSON document with `--json`. */
  stdout: { write(text: string): unknown }
  /** Errors, warnings, questions and the progress indicator; `isTTY` turns the indicator on. */
  stderr: { write(text: string): unknown; isTTY?: boolean }
  env: Record<string, string | undefined>
  /** Present only when a person is at a terminal: shows `question` and resolves with the line they type. */
  prompt?: (question: string) => Promise<string>
}

/** The real process: prompts only when both stdin and stderr are terminals. */
export function processIo(): CliIo {
  const interactive = process.stdin.isTTY === true && process.stderr.isTTY === true
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    ...(interactive && { prompt: askOnTerminal }),
  }
}

async function askOnTerminal(question: string): Promise<string> {
  const terminal = createInterface({ input: process.stdin, output: process.stderr })
  try {
    return (await terminal.question(question)).trim()
  } finally {
    terminal.close()
  }
}
