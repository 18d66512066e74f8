import { Redis } from 'ioredis'

/** One entry of Redis' `ACL LOG`: a command, key or channel refused to a user. */
export interface Denial {
  user: string
  /** `command`, `key`, `channel` or `auth`. */
  reason: string
  /** The command, key or channel refused. */
  object: string
  /** `toplevel`, `lua` (inside a script) or `multi`. */
  context: string
}

/** What Redis refused, on every given server, as an all-rights user (a testkit server's `url`) reads it. */
export async function denials(adminUrls: readonly string[]): Promise<Denial[]> {
  const found: Denial[] = []
  for (const url of adminUrls) {
    const admin = new Redis(url)
    try {
      const entries = (await admin.call('ACL', 'LOG', '1000')) as unknown[][]
      for (const entry of entries) {
        const fields = new Map<string, string>()
        for (let i = 0; i < entry.length; i += 2) fields.set(String(entry[i]), String(entry[i + 1]))
        found.push({
          user: fields.get('username') ?? '',
          reason: fields.get('reason') ?? '',
          object: fields.get('object') ?? '',
          context: fields.get('context') ?? '',
        })
      }
    } finally {
      admin.disconnect()
    }
  }
  return found
}

/** Empties `ACL LOG` on every given server, so a test sees only its own denials. */
export async function resetDenials(adminUrls: readonly string[]): Promise<void> {
  for (const url of adminUrls) {
    const admin = new Redis(url)
    try {
      await admin.call('ACL', 'LOG', 'RESET')
    } finally {
      admin.disconnect()
    }
  }
}

/** The reply of a command that Redis must refuse: its error message (the test expects `NOPERM ...`). */
export async function refusal(command: Promise<unknown>): Promise<string> {
  try {
    await command
  } catch (error) {
    return error instanceof Error ? error.message : String(error)
  }
  throw new Error('expected Redis to refuse the command, but it ran')
}
