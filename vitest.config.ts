import { defineConfig } from 'vitest/config'

// One run over every workspace project, so CI gets a single report and one summary line.
export default defineConfig({
  test: {
    projects: ['packages/*/vitest.config.ts', 'apps/*/vitest.config.ts', 'test/vitest.config.ts'],
  },
})
