import { randomUUID } from 'node:crypto'
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** This process's ledgers, removed when it exits (a child process passes the file it was given, never removes it). */
let ledgers: string | undefined
function newLedgerFile(): string {
  if (ledgers === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'saga-effects-'))
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }))
    ledgers = dir
  }
  return join(ledgers, randomUUID())
}

/**
 * The test's own record of side effects, in a file that a killed child process and the test both append to (small
 * appends are atomic), and that does not depend on the Redis under test: it survives that Redis being killed.
 * `calls` counts every invocation; `applied` counts effects, applied at most once per idempotency key (what a real
 * downstream system that honours the key would do).
 */
export class EffectLedger {
  constructor(readonly file: string = newLedgerFile()) {
    appendFileSync(this.file, '')
  }

  async apply(effect: string, idempotencyKey: string): Promise<void> {
    appendFileSync(this.file, `${effect} ${idempotencyKey}\n`)
  }

  async calls(): Promise<Record<string, number>> {
    return countBy(this.lines().map(([effect]) => effect))
  }

  async applied(): Promise<Record<string, number>> {
    return countBy(this.firstApplications())
  }

  /** Effects in the order they were first applied. */
  async order(): Promise<string[]> {
    return this.firstApplications()
  }

  private firstApplications(): string[] {
    const seen = new Set<string>()
    return this.lines().flatMap(([effect, key]) => {
      if (seen.has(`${effect} ${key}`)) return []
      seen.add(`${effect} ${key}`)
      return [effect]
    })
  }

  private lines(): Array<[string, string]> {
    return readFileSync(this.file, 'utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => line.split(' ', 2) as [string, string])
  }
}

function countBy(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1
  return counts
}
