import type { Redis } from 'ioredis'

/**
 * The test's own record of side effects, in Redis so that a killed child process and the test see the same counts.
 * `calls` counts every invocation; `applied` counts effects, applied at most once per idempotency key (what a real
 * downstream system that honours the key would do).
 */
export class EffectLedger {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async apply(effect: string, idempotencyKey: string): Promise<void> {
    await this.redis.eval(
      `redis.call('HINCRBY', KEYS[1], ARGV[2], 1)
       if redis.call('HSETNX', KEYS[2], ARGV[1], 1) == 1 then
         redis.call('HINCRBY', KEYS[3], ARGV[2], 1)
         redis.call('RPUSH', KEYS[4], ARGV[2])
       end`,
      4,
      `${this.prefix}calls`,
      `${this.prefix}keys`,
      `${this.prefix}applied`,
      `${this.prefix}order`,
      `${effect}@${idempotencyKey}`,
      effect,
    )
  }

  async applied(): Promise<Record<string, number>> {
    return numbers(await this.redis.hgetall(`${this.prefix}applied`))
  }

  async calls(): Promise<Record<string, number>> {
    return numbers(await this.redis.hgetall(`${this.prefix}calls`))
  }

  /** Effects in the order they were first applied. */
  order(): Promise<string[]> {
    return this.redis.lrange(`${this.prefix}order`, 0, -1)
  }
}

const numbers = (hash: Record<string, string>) =>
  Object.fromEntries(Object.entries(hash).map(([key, value]) => [key, Number(value)]))
