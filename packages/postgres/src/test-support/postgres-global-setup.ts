import { startPostgres } from '@cachesaga/testkit'
import type { TestProject } from 'vitest/node'

declare module 'vitest' {
  export interface ProvidedContext {
    postgresPackageUrl: string
    durablePostgresUrl: string
  }
}

/**
 * Two PostgreSQL servers for the run (embedded, with wal_level=logical); each test file makes its own databases on
 * them. The fast one runs without fsync; the durable one keeps PostgreSQL's defaults, which saga runners require of
 * their store (the saga store's tests run there).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const [fast, durable] = await Promise.all([
    startPostgres({ allowExternal: false }),
    startPostgres({ allowExternal: false, durable: true }),
  ])
  project.provide('postgresPackageUrl', fast.url)
  project.provide('durablePostgresUrl', durable.url)
  return async () => {
    await Promise.all([fast.stop(), durable.stop()])
  }
}
