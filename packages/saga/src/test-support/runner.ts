import type { Redis } from 'ioredis'
import type { SagaEvent, SagaEventName } from '../events.js'
import type { SagaRunnerOptions } from '../runtime/runner-options.js'
import { createSagaRunner, type SagaRunner } from '../runtime/saga-runner.js'
import { EffectLedger } from './effects.js'
import { freshPrefix } from './redis.js'

/** Collects every event a runner emits, as `name step` lines that read like the saga's story. */
class EventLog {
  readonly events: Array<{ name: SagaEventName; event: SagaEvent }> = []

  emit(name: SagaEventName, event: SagaEvent): void {
    this.events.push({ name, event })
  }

  lines(sagaId?: string): string[] {
    return this.events
      .filter(({ event }) => sagaId === undefined || event.sagaId === sagaId)
      .map(({ name, event }) => (event.step ? `${name} ${event.step}` : name))
  }
}

/** A runner on a fresh key prefix with quick retries, its event log and a ledger for the saga's effects. */
export function testRunner(redis: Redis, options: Partial<SagaRunnerOptions> = {}) {
  const prefix = freshPrefix()
  const events = new EventLog()
  const runner: SagaRunner = createSagaRunner({
    redis,
    events,
    keyPrefix: prefix,
    compensationRetry: { attempts: 3, initialDelayMs: 5, maxDelayMs: 20 },
    ...options,
  })
  return { runner, events, prefix, ledger: new EffectLedger(redis, `${prefix}effects:`) }
}
