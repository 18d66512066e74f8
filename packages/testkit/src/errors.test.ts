import { describe, expect, it } from 'vitest'
import { startRedis, TestkitError } from './index.js'

describe('TestkitError', () => {
  it('keeps the code a field and out of the message, with structured details', () => {
    const cause = new Error('ECONNREFUSED')
    const error = new TestkitError('TESTKIT_ERR_SERVER_START', 'redis-server exited', {
      cause,
      details: { port: 1234 },
    })
    expect(error).toMatchObject({ name: 'TestkitError', code: 'TESTKIT_ERR_SERVER_START', cause })
    expect(error.message).toBe('redis-server exited')
    expect(error.details).toEqual({ port: 1234 })
    expect('cause' in new TestkitError('TESTKIT_ERR_TIMEOUT', 'late')).toBe(false)
  })

  it('is what the harness throws, with the field named in the message and the code beside it', async () => {
    // @ts-expect-error: checking the runtime guard for untyped callers
    const failure = await startRedis({ persistence: 'sometimes' }).catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(TestkitError)
    expect(failure).toMatchObject({ code: 'TESTKIT_ERR_INVALID_INPUT' })
    expect((failure as Error).message).toMatch(/^startRedis\.options\.persistence: /)
  })
})
