import { defineProject } from 'vitest/config'

export default defineProject({
  test: {
    name: 'postgres',
    include: ['src/**/*.test.ts'],
    globalSetup: ['src/test-support/postgres-global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
})
