import { readFileSync } from 'node:fs'

/** The packages whose README has a "Redis ACL" section, and the user names of its `ACL SETUSER` lines. */
export const ACL_USERS = {
  core: ['cache-<namespace>'],
  queue: ['queue-worker', 'queue-producer'],
  saga: ['saga-runner'],
  cli: ['cachesaga-viewer', 'cachesaga-operator'],
} as const

export type AclPackage = keyof typeof ACL_USERS
export type AclUser<P extends AclPackage> = (typeof ACL_USERS)[P][number]

/** Every `ACL SETUSER` line of a package README's "Redis ACL" section, by user name, as written there. */
export function readmeAclLines(pkg: AclPackage): Map<string, string[]> {
  const readme = readFileSync(new URL(`../../../packages/${pkg}/README.md`, import.meta.url), 'utf8')
  const start = readme.indexOf('\n## Redis ACL\n')
  if (start === -1) throw new Error(`packages/${pkg}/README.md has no "## Redis ACL" section`)
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1))
  const lines = new Map<string, string[]>()
  for (const line of section.split('\n')) {
    if (!line.startsWith('ACL SETUSER ')) continue
    const [, , name, ...rest] = line.trim().split(/\s+/)
    // Ready to paste means a clean slate: no rule of an older version of the user survives.
    if (rest.slice(0, 3).join(' ') !== 'reset on ><password>')
      throw new Error(`${pkg} README: ACL SETUSER ${name} must start with "reset on ><password>"`)
    lines.set(name!, rest.slice(3))
  }
  return lines
}

/**
 * The rules of `user` in the package README, with its placeholders filled in, as testkit's `rules` take them (testkit
 * puts `reset on >password` in front). A placeholder given several values repeats its rule once per value
 * (`~<prefix>:<queue>:*` for each queue). A placeholder left unfilled is an error, so a README that gains one fails here.
 */
export function aclRules<P extends AclPackage>(
  pkg: P,
  user: AclUser<P>,
  values: Record<string, string | readonly string[]> = {},
): string[] {
  const rules = readmeAclLines(pkg).get(user)
  if (rules === undefined) throw new Error(`packages/${pkg}/README.md has no ACL SETUSER ${user} line`)
  return rules.flatMap((rule) => {
    let expanded = [rule]
    for (const [name, value] of Object.entries(values)) {
      const placeholder = `<${name}>`
      expanded = expanded.flatMap((text) =>
        text.includes(placeholder)
          ? (typeof value === 'string' ? [value] : value).map((one) => text.replaceAll(placeholder, one))
          : [text],
      )
    }
    for (const text of expanded) {
      if (/<[a-z-]+>/.test(text))
        throw new Error(`${pkg} README, ${user}: no value for the placeholder in ${text}`)
    }
    return expanded
  })
}

/** The commands (`+name`, `+name|sub`) a rule list allows, lower case, without the `+`. */
export function commandsOf(rules: readonly string[]): Set<string> {
  return new Set(rules.filter((rule) => rule.startsWith('+')).map((rule) => rule.slice(1).toLowerCase()))
}
