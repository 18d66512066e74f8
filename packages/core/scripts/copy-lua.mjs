// Copies the Lua scripts next to the compiled JS, where src/lua/scripts.ts reads them at runtime.
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const from = fileURLToPath(new URL('../src/lua/', import.meta.url))
const to = fileURLToPath(new URL('../dist/lua/', import.meta.url))
mkdirSync(to, { recursive: true })
for (const file of readdirSync(from)) if (file.endsWith('.lua')) copyFileSync(from + file, to + file)
