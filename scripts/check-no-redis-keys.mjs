#!/usr/bin/env node
// Fails when production source calls the Redis KEYS command. KEYS blocks Redis for the whole
// keyspace walk; cachesaga uses SCAN everywhere. Tests are exempt (they may inspect a throwaway server).
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const FORBIDDEN = [
  // ioredis / node-redis client method with a pattern argument: redis.keys('x:*'). Map#keys() takes none.
  {
    name: 'client.keys(pattern)',
    regex: /(?<![A-Za-z_$])(?!Object\b)[A-Za-z_$][\w$]*\s*\??\.\s*keys\s*\(\s*[^)\s]/,
  },
  // Generic command calls: redis.call('KEYS', ...), client.call('keys'), sendCommand(['KEYS', ...]), new Command('keys')
  { name: "call('KEYS')", regex: /\b(?:call|pcall|sendCommand|Command)\s*\(\s*\[?\s*['"`]keys['"`]/i },
]

const SOURCE_EXT = /\.(?:[cm]?[jt]s|lua)$/
const TEST_FILE = /(?:\.test\.|\.spec\.|[\\/]test[\\/]|[\\/]tests[\\/]|[\\/]__tests__[\\/])/

/** Returns every forbidden call in `text` as { line, rule, snippet }; calls split over lines are found too. */
export function findKeysCalls(text) {
  const hits = []
  const lines = text.split('\n')
  for (const rule of FORBIDDEN) {
    const global = new RegExp(rule.regex.source, `${rule.regex.flags.replace('g', '')}g`)
    for (const match of text.matchAll(global)) {
      const line = text.slice(0, match.index).split('\n').length
      hits.push({ line, rule: rule.name, snippet: (lines[line - 1] ?? '').trim() })
    }
  }
  return hits.sort((a, b) => a.line - b.line)
}

function* walk(dir) {
  for (const entry of readdirSync(dir)) {
    if (entry === 'node_modules' || entry === 'dist' || entry.startsWith('.')) continue
    const full = join(dir, entry)
    if (statSync(full).isDirectory()) yield* walk(full)
    else yield full
  }
}

function main() {
  const root = fileURLToPath(new URL('..', import.meta.url))
  const roots = ['packages', 'apps'].map((d) => join(root, d))
  const problems = []
  for (const base of roots) {
    for (const file of walk(base)) {
      const path = relative(root, file)
      if (!SOURCE_EXT.test(path) || TEST_FILE.test(`/${path}`)) continue
      for (const hit of findKeysCalls(readFileSync(file, 'utf8'))) {
        problems.push(`${path}:${hit.line}  ${hit.rule}  ${hit.snippet}`)
      }
    }
  }
  if (problems.length > 0) {
    console.error('Redis KEYS is forbidden in source code (use SCAN):')
    for (const p of problems) console.error(`  ${p}`)
    process.exit(1)
  }
  console.log('no Redis KEYS calls in source')
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main()
