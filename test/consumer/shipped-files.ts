import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { PackageManifest } from './workspace-packages.js'

/** Every file an installed package's manifest or README names that is not in it. */
export function missingFiles(installedDir: string): string[] {
  const manifest = JSON.parse(readFileSync(join(installedDir, 'package.json'), 'utf8')) as PackageManifest
  const missing: string[] = []
  const need = (path: string, why: string) => {
    if (!existsSync(join(installedDir, path))) missing.push(`${path} (${why})`)
  }
  for (const [subpath, conditions] of Object.entries(manifest.exports ?? {})) {
    for (const [condition, target] of Object.entries(conditions))
      need(target, `exports["${subpath}"].${condition}`)
  }
  for (const [name, target] of Object.entries(manifest.bin ?? {})) need(target, `bin.${name}`)
  need('README.md', 'the registry page')
  need('LICENSE', 'the license')
  const readme = existsSync(join(installedDir, 'README.md'))
    ? readFileSync(join(installedDir, 'README.md'), 'utf8')
    : ''
  for (const link of readmeLinks(readme)) need(link, 'a README link')
  for (const path of citedPaths(readme))
    need(path, 'cited in the README: ship it, or link it to the repository')
  return missing
}

const REPOSITORY_PATH = /^(?:src|examples|test|tests|bench|scripts|migrations|apps|packages)\/[^\s`]*$/

/**
 * Repository paths a README cites in backticks outside a link (`src/readme.test.ts`): on the registry page they
 * name files nobody can open unless they ship or are linked to the repository.
 */
export function citedPaths(markdown: string): string[] {
  const outsideLinks = markdown.replace(/\[[^\]]*\]\([^)]*\)/g, '').replace(/```[\s\S]*?```/g, '')
  const paths = new Set<string>()
  for (const match of outsideLinks.matchAll(/`([^`\n]+)`/g)) {
    const text = match[1]!
    if (REPOSITORY_PATH.test(text)) paths.add(text.replace(/\/$/, ''))
  }
  return [...paths]
}

/** Relative link targets of a Markdown text (absolute URLs and in-page anchors resolve on their own). */
export function readmeLinks(markdown: string): string[] {
  const links = new Set<string>()
  for (const match of markdown.matchAll(/\]\(([^)\s]+)\)/g)) {
    const target = match[1]!.split('#')[0]!
    if (target === '' || /^[a-z][a-z0-9+.-]*:/i.test(target)) continue
    links.add(target.replace(/^\.\//, ''))
  }
  return [...links]
}
