import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { Redis } from 'ioredis'

type ScriptArg = string | number

/**
 * One script from `src/lua` (copied to `dist/lua` by the build), called by SHA and loaded on the first NOSCRIPT, so a
 * restarted or failed-over Redis is handled without a separate load step.
 */
class LuaScript {
  private readonly source: string
  private readonly sha: string

  constructor(readonly file: string) {
    this.source = readFileSync(new URL(`../lua/${file}`, import.meta.url), 'utf8')
    this.sha = createHash('sha1').update(this.source).digest('hex')
  }

  async run(redis: Redis, keys: readonly string[], args: readonly ScriptArg[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args)
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error
      return redis.eval(this.source, keys.length, ...keys, ...args)
    }
  }
}

/** Every script, parsed once per process. */
export const scripts = {
  acquireSaga: new LuaScript('acquire-saga.lua'),
  renewLease: new LuaScript('renew-lease.lua'),
  recordStep: new LuaScript('record-step.lua'),
  setSagaState: new LuaScript('set-saga-state.lua'),
  operatorAction: new LuaScript('operator-action.lua'),
  forgetFinishedSagas: new LuaScript('forget-finished-sagas.lua'),
  scheduleInvalidationRetry: new LuaScript('schedule-invalidation-retry.lua'),
  claimInvalidationRetries: new LuaScript('claim-invalidation-retries.lua'),
  ackInvalidationRetry: new LuaScript('ack-invalidation-retry.lua'),
}
