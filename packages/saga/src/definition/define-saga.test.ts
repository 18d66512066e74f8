import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { invalidateCache } from '../invalidation/invalidate-cache.js'
import { defineSaga } from './define-saga.js'

const input = z.object({ id: z.string() })
const run = () => 1

describe('defineSaga', () => {
  it('returns a new definition per step and finds the pivot', () => {
    const base = defineSaga('book', { input })
    const withSteps = base.step('hold', { run, compensate: () => {} }).step('commit', { run, kind: 'pivot' })
    expect(base.steps).toHaveLength(0)
    expect(withSteps.steps.map((step) => [step.name, step.kind])).toEqual([
      ['hold', 'task'],
      ['commit', 'pivot'],
    ])
    expect(withSteps.pivotIndex).toBe(1)
    expect(base.step('a', { run }).pivotIndex).toBe(1)
  })

  it('fills in the documented step defaults', () => {
    const [step] = defineSaga('book', { input }).step('a', { run }).steps
    expect(step).toMatchObject({
      timeoutMs: 30_000,
      retry: { attempts: 3, backoff: 'exponential', initialDelay: 100, maxDelay: 10_000 },
    })
  })

  it('refuses definitions that could not be run safely, saying why', () => {
    const saga = defineSaga('book', { input }).step('hold', { run, compensate: () => {} })
    expect(() => saga.step('hold', { run })).toThrow(/step "hold": the name is already used/)
    const pivoted = saga.step('commit', { run, kind: 'pivot' })
    expect(() => pivoted.step('again', { run, kind: 'pivot' })).toThrow(/at most one pivot/)
    expect(() => pivoted.step('late', { run, compensate: () => {} })).toThrow(/never compensated/)
    expect(() => saga.step('commit', { run, kind: 'pivot', compensate: () => {} })).toThrow(
      /pivot cannot be compensated/,
    )
    expect(() => saga.step('slow', { run, timeout: 0 })).toThrow(
      expect.objectContaining({
        code: 'SAGA_ERR_DEFINITION',
        message: 'slow.timeout: must be more than 0 ms',
      }),
    )
    expect(saga.step('quick', { run, timeout: '2s' }).steps.at(-1)?.timeoutMs).toBe(2_000)
    expect(() => saga.step('r', { run, retry: { attempts: 0 } })).toThrow(/r\.retry\.attempts/)
    expect(() => invalidateCache({ tags: ['t'] }, { name: '' })).toThrow(/invalidateCache\.name/)
    expect(() => defineSaga('', { input })).toThrow(/needs a name/)
  })

  it('lets an invalidation step follow the pivot: it is simply never compensated there', () => {
    const saga = defineSaga('book', { input })
      .step('commit', { run, kind: 'pivot' })
      .step(invalidateCache({ tags: ['t'] }))
    expect(saga.steps.map((step) => step.kind)).toEqual(['pivot', 'invalidation'])
  })
})
