import type { SagaEvent, SagaEventName } from '../events.js'
import type { SagaRunnerOptions } from '../runtime/runner-options.js'
import { createSagaRunner, type SagaRunner } from '../runtime/saga-runner.js'
import type { RedisSagaStore } from '../store/redis/redis-saga-store.js'
import { createRedisSagaStore } from '../store/redis/redis-store-options.js'
import { EffectLedger } from '../testing/effects.js'
import { freshPrefix, type SagaRedis } from './redis.js'

/** Collects every event a runner emits, as `name step` lines that read like the saga's story. */
export class EventLog {
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

/**
 * A runner on a fresh key prefix with quick retries, its event log and a ledger for the saga's effects; closed after
 * the test.
 */
export function testRunner(redis: SagaRedis, options: Partial<SagaRunnerOptions> = {}) {
  const prefix = freshPrefix()
  const events = new EventLog()
  const runner: SagaRunner = createSagaRunner({
    redis: redis.connection,
    events,
    keyPrefix: prefix,
    compensationRetry: { attempts: 3, initialDelay: 5, maxDelay: 20 },
    ...options,
  })
  redis.opened.push(runner)
  return { runner, events, prefix, ledger: new EffectLedger() }
}

/** A Redis store of its own on `prefix` (a runner's, to play a runner that died), closed after the test. */
export function testStore(redis: SagaRedis, prefix: string): RedisSagaStore {
  const store = createRedisSagaStore({ redis: redis.connection, keyPrefix: prefix })
  redis.opened.push(store)
  return store
}

/** Creates a saga as a runner that dies at once would leave it: running, leased to nobody alive for `leaseMs`. */
export async function orphan(
  store: RedisSagaStore,
  sagaId: string,
  saga: { name: string },
  input: unknown,
  leaseMs: number,
): Promise<void> {
  await store.acquire(
    sagaId,
    { token: 'dead-runner', ms: leaseMs },
    { name: saga.name, inputJson: JSON.stringify(input) },
  )
}
