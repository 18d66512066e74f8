import { describe, expect, it } from 'vitest'
import { CachesagaError, errorCode } from './cachesaga-error.js'

class ExampleError extends CachesagaError<'EX_ERR_ONE' | 'EX_ERR_TWO'> {
  override name = 'ExampleError'
}

describe('CachesagaError', () => {
  it('keeps the code a field and out of the message', () => {
    const error = new ExampleError('EX_ERR_ONE', 'input.staffId: expected a string', {
      details: { field: 'input.staffId' },
    })
    expect(error.code).toBe('EX_ERR_ONE')
    expect(error.message).toBe('input.staffId: expected a string')
    expect(error.details).toEqual({ field: 'input.staffId' })
    expect(error).toBeInstanceOf(CachesagaError)
    expect(JSON.parse(JSON.stringify(error))).toEqual({
      name: 'ExampleError',
      code: 'EX_ERR_ONE',
      message: 'input.staffId: expected a string',
      details: { field: 'input.staffId' },
    })
  })

  it('carries a cause only when given one', () => {
    const cause = new Error('ECONNREFUSED')
    expect(new ExampleError('EX_ERR_TWO', 'down', { cause }).cause).toBe(cause)
    expect('cause' in new ExampleError('EX_ERR_TWO', 'down')).toBe(false)
  })

  it('errorCode reads any code field, ours or a library one', () => {
    expect(errorCode(new ExampleError('EX_ERR_TWO', 'x'))).toBe('EX_ERR_TWO')
    expect(errorCode(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }))).toBe('ECONNREFUSED')
    expect(errorCode(new Error('plain'))).toBeUndefined()
    expect(errorCode({ code: 7 })).toBeUndefined()
    expect(errorCode('EX_ERR_ONE')).toBeUndefined()
    expect(errorCode(null)).toBeUndefined()
  })
})
