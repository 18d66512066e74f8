import { z } from 'zod'

type Def = Record<string, unknown> & { type: string }

/** Schemas whose definition holds one inner schema under this key; the rest of the definition is kept. */
const WRAPPERS: Record<string, string> = {
  optional: 'innerType',
  nullable: 'innerType',
  default: 'innerType',
  prefault: 'innerType',
  nonoptional: 'innerType',
  readonly: 'innerType',
  catch: 'innerType',
  array: 'element',
  pipe: 'in',
}

/**
 * The same schema with every `z.object` in it rejecting unknown keys, the way `z.strictObject` does. Objects that say
 * what to do with unknown keys themselves (`z.looseObject`, `.catchall(...)`) keep their choice, and refinements are
 * kept (definitions are cloned, not rebuilt). Payloads are checked like this by default because zod's plain objects
 * strip unknown keys silently: a producer's misspelled optional field would vanish instead of failing.
 */
export function strictSchema<S extends z.ZodType>(schema: S): S {
  return strictDeep(schema) as S
}

function strictDeep(schema: z.ZodType): z.ZodType {
  const def = schema._zod.def as unknown as Def
  const clone = (changes: Record<string, unknown>) =>
    schema.clone({ ...def, ...changes } as unknown as typeof schema._zod.def)
  switch (def.type) {
    case 'object': {
      const shape = def.shape as Record<string, z.ZodType>
      const strictShape = Object.fromEntries(
        Object.entries(shape).map(([key, value]) => [key, strictDeep(value)]),
      )
      return clone({ shape: strictShape, catchall: def.catchall ?? z.never() })
    }
    case 'union':
      return clone({ options: (def.options as z.ZodType[]).map(strictDeep) })
    case 'intersection':
      // An intersection's halves each see the other's keys, so neither half may reject unknown keys on its own.
      return schema
    case 'record':
      return clone({ valueType: strictDeep(def.valueType as z.ZodType) })
    case 'tuple':
      return clone({
        items: (def.items as z.ZodType[]).map(strictDeep),
        rest: def.rest === null || def.rest === undefined ? def.rest : strictDeep(def.rest as z.ZodType),
      })
    default: {
      const inner = WRAPPERS[def.type]
      return inner === undefined ? schema : clone({ [inner]: strictDeep(def[inner] as z.ZodType) })
    }
  }
}
