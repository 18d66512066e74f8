import type { z } from 'zod'

/**
 * Renders zod issues as `path.to.field: message`, joined by `; `, so every rejected input names the field at
 * fault. `root` prefixes every path (`input`, `options`, `--flag`); an issue at the root is named by it alone.
 */
export function describeIssues(issues: readonly z.core.$ZodIssue[], root?: string): string {
  return issues
    .map((issue) => {
      const path = [...(root === undefined ? [] : [root]), ...issue.path.map(String)]
      return `${path.length > 0 ? path.join('.') : '(root)'}: ${issue.message}`
    })
    .join('; ')
}

/** The dotted path of the first issue, for errors that carry the field as data. */
export function firstIssuePath(issues: readonly z.core.$ZodIssue[], root?: string): string {
  const path = [...(root === undefined ? [] : [root]), ...(issues[0]?.path.map(String) ?? [])]
  return path.length > 0 ? path.join('.') : '(root)'
}
