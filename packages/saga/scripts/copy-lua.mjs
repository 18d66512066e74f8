// tsc copies only TypeScript output; the Lua scripts are read at runtime from `dist/lua`, next to the compiled store.
import { cpSync } from 'node:fs'

cpSync(new URL('../src/lua', import.meta.url), new URL('../dist/lua', import.meta.url), {
  recursive: true,
  filter: (source) => !source.endsWith('.test.ts'),
})
