import { describe, expect, it } from 'vitest'
import { matchesEverything, toRedisMatch, toRegExp } from './glob.js'

describe('user globs', () => {
  it('keep * and ? as wildcards and escape Redis metacharacters', () => {
    expect(toRedisMatch('p:', 'patch:*')).toBe('p:patch:*')
    expect(toRedisMatch('p:', 'a?c')).toBe('p:a?c')
    expect(toRedisMatch('p:', 'x[ab]y')).toBe('p:x\\[ab\\]y')
    expect(toRedisMatch('p:', 'lit\\*star')).toBe('p:lit\\*star')
    expect(toRedisMatch('p:', 'back\\\\slash')).toBe('p:back\\\\slash')
    expect(toRedisMatch('p:', '{brace}')).toBe('p:{brace}')
  })

  it('match in L1 exactly what they match in Redis', () => {
    const regex = toRegExp('ghost:session:*')
    expect(regex.test('ghost:session:42')).toBe(true)
    expect(regex.test('ghost:session:')).toBe(true)
    expect(regex.test('ghost:sessions:42')).toBe(false)
    expect(toRegExp('a.b').test('axb')).toBe(false)
    expect(toRegExp('x[ab]y').test('x[ab]y')).toBe(true)
    expect(toRegExp('x[ab]y').test('xay')).toBe(false)
    expect(toRegExp('line*').test('line\nbreak')).toBe(true)
    expect(toRegExp('__proto__').test('__proto__')).toBe(true)
  })

  it('recognise match-all globs', () => {
    for (const glob of ['', '*', '**', '?*', '*?']) expect(matchesEverything(glob)).toBe(true)
    for (const glob of ['?', 'a*', '*a', '\\*']) expect(matchesEverything(glob)).toBe(false)
  })
})
