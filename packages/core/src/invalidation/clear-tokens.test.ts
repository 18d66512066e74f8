import { afterEach, describe, expect, it, vi } from 'vitest'
import { ClearTokens } from './clear-tokens.js'

afterEach(() => {
  vi.useRealTimers()
})

describe('clear tokens', () => {
  it('are single use', () => {
    const tokens = new ClearTokens()
    const token = tokens.issue()
    expect(() => tokens.consume(token)).not.toThrow()
    expect(() => tokens.consume(token)).toThrow(/unknown token \(wrong, or already used\)/)
  })

  it('expire after a minute', () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    const tokens = new ClearTokens()
    const token = tokens.issue()
    vi.setSystemTime(Date.now() + 60_001)
    expect(() => tokens.consume(token)).toThrow(/the token expired/)
  })

  it('must be a non-empty string', () => {
    const tokens = new ClearTokens()
    for (const bad of [undefined, '', 42]) expect(() => tokens.consume(bad)).toThrow(/a token .* is required/)
  })
})
