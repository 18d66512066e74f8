import { dependency } from '../stack/dependencies.js'
import { callKey, checkFunctionName } from './cached-functions.js'
import type { DependencyItem, KeyItem } from './items.js'

/** `{ name }` bumps the function's counter (exact name, every call); `{ name, args }` deletes one call's key. */
export function queryItems(queries: ReadonlyArray<{ name: string; args?: unknown[] }>): {
  deps: DependencyItem[]
  keys: KeyItem[]
} {
  const deps: DependencyItem[] = []
  const keys: KeyItem[] = []
  queries.forEach((query, index) => {
    const name = checkFunctionName(query.name, `target.queries.${index}.name`)
    if (query.args === undefined)
      deps.push({ kind: 'queries', target: name, dep: dependency.cachedFunction(name) })
    else
      keys.push({
        kind: 'queries',
        target: `${name}(${query.args.length} args)`,
        key: callKey(name, query.args),
      })
  })
  return { deps, keys }
}
