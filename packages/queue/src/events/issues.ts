import type { z } from 'zod'

/** Renders zod issues as `path.to.field: message`, so every error names the field at fault. */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('; ')
}
