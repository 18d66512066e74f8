import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { strictSchema } from './strict-schema.js'

const issuesOf = (schema: z.ZodType, input: unknown) =>
  schema.safeParse(input).error?.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`) ?? []

describe('strict payload schemas', () => {
  it('reject unknown keys at every depth: objects, arrays, optionals, unions, records', () => {
    const schema = strictSchema(
      z.object({
        slot: z.object({ start: z.string() }),
        items: z.array(z.object({ id: z.string() })).optional(),
        either: z.union([z.object({ a: z.string() }), z.object({ b: z.string() })]),
        byId: z.record(z.string(), z.object({ n: z.number() })),
      }),
    )
    const valid = { slot: { start: 's' }, items: [{ id: 'i' }], either: { a: 'a' }, byId: { x: { n: 1 } } }
    expect(schema.parse(valid)).toEqual(valid)
    expect(issuesOf(schema, { ...valid, extra: 1 })).toEqual([': Unrecognized key: "extra"'])
    expect(issuesOf(schema, { ...valid, slot: { start: 's', end: 'e' } })).toEqual([
      'slot: Unrecognized key: "end"',
    ])
    expect(issuesOf(schema, { ...valid, items: [{ id: 'i', x: 1 }] })).toEqual([
      'items.0: Unrecognized key: "x"',
    ])
    expect(issuesOf(schema, { ...valid, byId: { x: { n: 1, m: 2 } } })).toEqual([
      'byId.x: Unrecognized key: "m"',
    ])
    expect(schema.safeParse({ ...valid, either: { a: 'a', z: 1 } }).success).toBe(false)
  })

  it('keep refinements, and objects that chose to accept unknown keys', () => {
    const schema = strictSchema(
      z.object({
        range: z
          .object({ from: z.number(), to: z.number() })
          .refine((r) => r.to > r.from, { message: 'to <= from' }),
        meta: z.looseObject({ source: z.string() }),
      }),
    )
    expect(issuesOf(schema, { range: { from: 2, to: 1 }, meta: { source: 's' } })).toEqual([
      'range: to <= from',
    ])
    expect(schema.parse({ range: { from: 1, to: 2 }, meta: { source: 's', free: true } })).toEqual({
      range: { from: 1, to: 2 },
      meta: { source: 's', free: true },
    })
  })

  it('leave the schema it was given unchanged', () => {
    const original = z.object({ a: z.string() })
    strictSchema(original)
    expect(original.parse({ a: 'x', b: 'stripped' })).toEqual({ a: 'x' })
  })
})
