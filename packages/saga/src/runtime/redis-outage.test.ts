import { getFreePort } from '@cachesaga/testkit'
import { describe, expect, it } from 'vitest'
import { eventually, freshPrefix, useRedis } from '../test-support/redis.js'
import { EventLog } from '../test-support/runner.js'
import { bookingSaga } from '../testing/booking-saga.js'
import { EffectLedger } from '../testing/effects.js'
import { createSagaRunner } from './saga-runner.js'

// Every wait on Redis is bounded: a runner never hangs on a Redis that is gone, and a saga caught by the outage is
// finished by the recovery sweep once Redis is back. Killing and restarting a server needs a private single node; it
// keeps its data across the SIGKILL and restart with an append-only file synced every second, the configuration a
// saga store needs (what a killed process had written is in the OS's cache; only a power cut loses that second).
const server = useRedis({ allowExternal: false, persistence: 'aof' })

function runnerOn(redis: string, options: { sweep?: boolean } = {}) {
  const events = new EventLog()
  const runner = createSagaRunner({
    redis,
    events,
    keyPrefix: freshPrefix(),
    connectTimeout: '300ms',
    commandTimeout: '300ms',
    lease: '500ms',
    sweepInterval: '100ms',
  })
  if (options.sweep) runner.start()
  return { runner, events }
}

describe('runner.run when Redis is unreachable', () => {
  it('fails within connectTimeout with CS_ERR_REDIS_UNREACHABLE naming Redis, having run no step', async () => {
    const port = await getFreePort()
    const { runner } = runnerOn(`redis://:s3cret@127.0.0.1:${port}`)
    const ledger = new EffectLedger()
    const started = Date.now()
    const error = await runner.run(bookingSaga(ledger), { slot: 'x' }, { sagaId: 'nowhere' }).catch((e) => e)
    expect(Date.now() - started).toBeLessThan(2_000)
    expect(error).toMatchObject({
      code: 'CS_ERR_REDIS_UNREACHABLE',
      details: { target: `redis://:***@127.0.0.1:${port}`, timeoutMs: 300 },
      message: expect.stringContaining('ECONNREFUSED'),
    })
    expect(error.message).not.toContain('s3cret')
    expect(await ledger.calls()).toEqual({})
    await runner.close()
  })
})

describe('a saga started before Redis went away', () => {
  it('fails the run with a coded error, then is finished by the recovery sweep once Redis is back', async () => {
    const { runner, events } = runnerOn(server.url, { sweep: true })
    const ledger = new EffectLedger()
    let release: () => void = () => {}
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    let charged = false
    const saga = bookingSaga(ledger, async (point) => {
      if (point !== 'effect:charge' || charged) return
      charged = true
      await gate
    })
    const run = runner.run(saga, { slot: 'mon-9' }, { sagaId: 'outage-1' }).catch((error) => error)
    await eventually(async () => (charged ? true : undefined))

    // Redis dies while `charge` is in flight: its completion cannot be recorded.
    await server.server.kill()
    release()
    expect(await run).toMatchObject({ code: 'CS_ERR_REDIS_UNREACHABLE' })
    // The sweep keeps trying while Redis is gone, and says so each time it cannot read it. Waiting for that before the
    // restart keeps the outage longer than one sweep, however late the sweep's timer fires on a busy machine.
    await eventually(async () => (events.lines().includes('recovery.failed') ? true : undefined), 10_000)

    await server.server.restart()
    const state = await eventually(async () => {
      const record = (await runner.operator.inspect('outage-1').catch(() => undefined))?.record
      return record?.state === 'completed' ? record.state : undefined
    }, 20_000)
    expect(state).toBe('completed')
    expect(events.lines('outage-1')).toContain('saga.resumed')
    // `charge` ran again with the same idempotency key after the takeover; every effect was applied once.
    expect(await ledger.applied()).toEqual({ hold: 1, charge: 1, commit: 1, notify: 1 })
    expect(await ledger.calls()).toMatchObject({ charge: 2 })
    await runner.close()
  }, 60_000)
})
