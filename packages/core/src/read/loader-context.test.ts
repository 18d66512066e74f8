import { describe, expect, it } from 'vitest'
import { LazyLoaderContext } from './loader-context.js'

describe('the loader context', () => {
  it('aborts a signal the loader already holds', () => {
    const context = new LazyLoaderContext('k', undefined)
    const signal = context.signal
    expect(signal.aborted).toBe(false)
    context.abort()
    expect(signal.aborted).toBe(true)
    expect(context.signal).toBe(signal)
  })

  it('hands out an aborted signal to a loader that asks only after the abort', () => {
    const context = new LazyLoaderContext('k', 'stale value')
    context.abort()
    expect(context.signal.aborted).toBe(true)
    expect(context.stale).toBe('stale value')
  })

  it('can be destructured like a plain object', () => {
    const { key, signal, stale } = new LazyLoaderContext('availability:7', 3)
    expect([key, signal.aborted, stale]).toEqual(['availability:7', false, 3])
  })
})
