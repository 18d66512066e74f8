import { durationSchema } from '@cachesaga/common'
import { z } from 'zod'
import type { Change, ChangeHandler } from '../capture/change.js'
import { parseOptions } from '../parse-options.js'

export interface RecentChangesOptions {
  /** How long a handled change is kept: the longest replay window it must serve. Default `'5m'`. */
  window?: number | string
}

const optionsSchema = z.object({ window: durationSchema.default(5 * 60 * 1000) })

/**
 * The changes this process handled lately, for a replay where no changes table holds them (the logical
 * replication source confirms and forgets). In memory: it covers what this process handled since it started.
 */
export class RecentChanges {
  private readonly windowMs: number
  private readonly changes: Change[] = []

  constructor(options: RecentChangesOptions = {}) {
    this.windowMs = parseOptions(optionsSchema, options, 'RecentChangesOptions').window
  }

  /** Wraps a handler: a change is remembered once `handler` has handled it. */
  track(handler: ChangeHandler): ChangeHandler {
    return async (change) => {
      await handler(change)
      this.remember(change)
    }
  }

  /** The remembered changes at or after `since` (ms since the epoch), oldest first. */
  since(since: number): Change[] {
    this.forget(Date.now())
    return this.changes.filter((change) => change.changedAt.getTime() >= since)
  }

  private remember(change: Change): void {
    this.changes.push(change)
    this.forget(Date.now())
  }

  private forget(now: number): void {
    let expired = 0
    while (expired < this.changes.length && this.changes[expired]!.changedAt.getTime() < now - this.windowMs)
      expired++
    if (expired > 0) this.changes.splice(0, expired)
  }
}
