import { fileURLToPath } from 'node:url'
import { defineProject } from 'vitest/config'

export default defineProject({
  resolve: {
    // The README example imports the package by name; run it against the source, not a stale dist.
    alias: { '@cachesaga/testkit': fileURLToPath(new URL('./src/index.ts', import.meta.url)) },
  },
  test: {
    name: 'testkit',
    include: ['src/**/*.test.ts', 'examples/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
})
