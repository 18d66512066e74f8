import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { bookingSaga } from '../test-support/booking-saga.js'
import { EffectLedger } from '../test-support/effects.js'
import { eventually, freshPrefix, onEachTopology, type SagaRedis } from '../test-support/redis.js'
import { testRunner } from '../test-support/runner.js'
import type { SagaRunner } from './saga-runner.js'

const childPath = fileURLToPath(new URL('../test-support/crash-child.ts', import.meta.url))
const LEASE_MS = 400

type Decision = 'continue' | 'kill'

/**
 * Runs the saga in a child that pauses at every crash point and asks `decide` whether to let it go on or SIGKILL it
 * there. Returns the points the child reached and its last line (`done <state>` when it finished).
 */
async function runChild(
  env: Record<string, string>,
  decide: (point: string, index: number) => Decision | Promise<Decision> = () => 'continue',
): Promise<{ points: string[]; last: string | undefined }> {
  const child = spawn(process.execPath, ['--import', 'tsx', childPath], {
    env: { ...process.env, ...env, LEASE_MS: String(LEASE_MS) },
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const points: string[] = []
  let last: string | undefined
  let killed = false
  for await (const line of createInterface({ input: child.stdout })) {
    last = line
    if (!line.startsWith('point ')) continue
    points.push(line.slice('point '.length))
    if ((await decide(points.at(-1)!, points.length - 1)) === 'kill') {
      child.kill('SIGKILL')
      killed = true
      break
    }
    child.stdin.write('\n')
  }
  const code = await exited
  if (!killed && code !== 0) throw new Error(`the child exited with ${code}`)
  return { points, last }
}

/** Env of a child running a fresh booking saga on its own key prefix, with its own ledger of effects. */
function childEnv(redis: SagaRedis, run: string, rejectAtCommit: boolean) {
  return {
    REDIS_CONNECTION: JSON.stringify(redis.connection),
    KEY_PREFIX: freshPrefix(),
    SAGA_ID: `crash-${run}`,
    REJECT_AT_COMMIT: rejectAtCommit ? '1' : '0',
    LEDGER_FILE: new EffectLedger().file,
  }
}

/** A runner as after a restart, on the child's key prefix and ledger, that knows the booking saga. */
function recoveringRunner(redis: SagaRedis, env: { KEY_PREFIX: string; LEDGER_FILE: string }) {
  const ledger = new EffectLedger(env.LEDGER_FILE)
  const { runner } = testRunner(redis, {
    keyPrefix: env.KEY_PREFIX,
    lease: LEASE_MS,
    sagas: [bookingSaga(ledger)],
  })
  return { runner, ledger }
}

/** Sweeps until the saga rests (the dead runner's lease has to expire first); returns its state. */
function recoverUntilResting(runner: SagaRunner, sagaId: string) {
  return eventually(async () => {
    await runner.recover()
    const inspection = await runner.operator.inspect(sagaId)
    const resting = inspection && !['running', 'compensating'].includes(inspection.record.state)
    return resting ? inspection.record.state : undefined
  }, 20_000)
}

/** Runs `tasks` with at most `limit` at a time (each spawns a node process; the machine has two cores). */
async function inBatches<T>(tasks: Array<() => Promise<T>>, limit: number): Promise<T[]> {
  const results: T[] = []
  let next = 0
  const worker = async () => {
    while (next < tasks.length) {
      const index = next++
      results[index] = await tasks[index]!()
    }
  }
  await Promise.all(Array.from({ length: limit }, worker))
  return results
}

onEachTopology((redis) => {
  describe.each([
    {
      path: 'completes',
      rejectAtCommit: false,
      state: 'completed',
      effects: { hold: 1, charge: 1, commit: 1, notify: 1 },
    },
    {
      path: 'rolls back',
      rejectAtCommit: true,
      state: 'compensated',
      effects: { hold: 1, charge: 1, refund: 1, release: 1 },
    },
  ])('a saga that $path, SIGKILLed at every point', ({ rejectAtCommit, state, effects }) => {
    it('is driven to the same end by recovery, with every side effect applied exactly once', async () => {
      const { points } = await runChild(childEnv(redis, 'dry', rejectAtCommit))
      expect(points).toContain('step.started hold-slot')
      expect(points).toContain('effect:hold')
      expect(points.at(-1)).toBe(`saga.${state}`)

      const runs = await inBatches(
        points.map((point, index) => async () => {
          const env = childEnv(redis, String(index), rejectAtCommit)
          await runChild(env, (_, reached) => (reached === index ? 'kill' : 'continue'))
          const { runner, ledger } = recoveringRunner(redis, env)
          const recovered = await recoverUntilResting(runner, env.SAGA_ID)
          return { point, state: recovered, applied: await ledger.applied(), calls: await ledger.calls() }
        }),
        3,
      )
      for (const { point, calls, ...run } of runs) {
        expect({ point, ...run }).toEqual({ point, state, applied: effects })
        // Killed after its effect but before "completed" was recorded: the step ran again, with the same key.
        const effect = /^effect:(.+)$/.exec(point)?.[1]
        if (effect) expect(calls[effect]).toBe(2)
      }
    }, 120_000)
  })

  describe('a runner frozen past its lease', () => {
    it('cannot record anything once another runner took over, and then returns the outcome that runner recorded', async () => {
      const env = childEnv(redis, 'frozen', false)
      const { runner, ledger } = recoveringRunner(redis, env)
      const { last } = await runChild(env, async (point): Promise<Decision> => {
        // Frozen right after charging: no lease renewal, so the other runner takes over and finishes the saga.
        if (point === 'effect:charge')
          expect(await recoverUntilResting(runner, env.SAGA_ID)).toBe('completed')
        return 'continue'
      })
      expect(last).toBe('done completed')
      expect(await ledger.applied()).toEqual({ hold: 1, charge: 1, commit: 1, notify: 1 })
      expect(await ledger.calls()).toMatchObject({ charge: 2 })
      const log = (await runner.operator.inspect(env.SAGA_ID))?.log.map(
        (entry) => `${entry.event} ${entry.step ?? ''}`,
      )
      expect(log?.filter((line) => line === 'step.started charge')).toHaveLength(2)
      // The frozen child's "completed" for charge was refused: only the new holder's is in the log.
      expect(log?.filter((line) => line === 'step.completed charge')).toHaveLength(1)
    }, 60_000)
  })

  describe('a saga delivered twice at once', () => {
    it('runs each step once, and both deliveries report the same outcome', async () => {
      const first = testRunner(redis)
      const second = testRunner(redis, { keyPrefix: first.prefix })
      let release: () => void = () => {}
      const gate = new Promise<void>((resolve) => {
        release = resolve
      })
      let holding = 0
      const saga = bookingSaga(first.ledger, async (point) => {
        if (point !== 'effect:hold') return
        holding++
        await gate
      })
      const deliveries = [
        first.runner.run(saga, { slot: 'mon-9' }, { sagaId: 'twice' }),
        second.runner.run(saga, { slot: 'mon-9' }, { sagaId: 'twice' }),
      ]
      await eventually(async () => (holding > 0 ? true : undefined))
      release()
      const [a, b] = await Promise.all(deliveries)
      expect(a).toEqual(b)
      expect(a?.state).toBe('completed')
      expect(holding).toBe(1)
      expect(await first.ledger.calls()).toEqual({ hold: 1, charge: 1, commit: 1, notify: 1 })
    })
  })
})
