import { describe, expect, it } from 'vitest'
import { eventually, TestkitError } from './index.js'

describe('eventually', () => {
  it('resolves with the first answer that is not falsy, probing until then', async () => {
    let probes = 0
    const answer = await eventually('the third probe', () => (++probes === 3 ? { probes } : undefined), {
      intervalMs: 1,
    })
    expect(answer).toEqual({ probes: 3 })
  })

  it('counts a probe that throws as "not yet", so assertions can be the probe', async () => {
    let value = 0
    await eventually(
      'the value to reach 2',
      () => {
        value++
        expect(value).toBe(2)
        return true
      },
      { intervalMs: 1 },
    )
    expect(value).toBe(2)
  })

  it('fails with the code, what was awaited and the last error, which is also the cause', async () => {
    const refusal = new Error('connect ECONNREFUSED 127.0.0.1:1')
    const failure = await eventually(
      'Redis answering',
      () => {
        throw refusal
      },
      { timeoutMs: 50, intervalMs: 10 },
    ).catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(TestkitError)
    expect(failure).toMatchObject({ code: 'TESTKIT_ERR_TIMEOUT', cause: refusal })
    expect((failure as Error).message).toMatch(
      /^Redis answering: not within 50 ms \(\d+ probes?\); the last probe threw connect ECONNREFUSED 127\.0\.0\.1:1$/,
    )
    expect((failure as Error).message).not.toContain('TESTKIT_ERR')
  })

  it('quotes the last answer when the probe never threw', async () => {
    await expect(eventually('three jobs', () => 0, { timeoutMs: 30 })).rejects.toThrow(
      /^three jobs: not within 30 ms \(\d+ probes?\); the last probe answered 0$/,
    )
  })

  it('stops waiting for a probe that hangs at the deadline', async () => {
    const started = Date.now()
    const hanging = eventually('a hanging probe', () => new Promise<boolean>(() => {}), { timeoutMs: 50 })
    await expect(hanging).rejects.toThrow(
      /a hanging probe: not within 50 ms \(1 probe\); the last probe was still running/,
    )
    expect(Date.now() - started).toBeLessThan(5_000)
  })

  it('gives up at once with the error giveUp returns', async () => {
    const exited = new Error('the worker exited with code 1')
    let probes = 0
    const attempt = eventually('the worker ready', () => ++probes > 1000, {
      timeoutMs: 10_000,
      giveUp: () => (probes >= 2 ? exited : undefined),
    })
    await expect(attempt).rejects.toBe(exited)
    expect(probes).toBe(2)
  })

  it('rejects options of the wrong type, naming them', async () => {
    await expect(eventually('x', () => true, { timeoutMs: -1 })).rejects.toThrow(
      /eventually\.options\.timeoutMs/,
    )
  })
})
