import { startPostgres } from '@cachesaga/testkit'
import type { TestProject } from 'vitest/node'

declare module 'vitest' {
  export interface ProvidedContext {
    postgresPackageUrl: string
  }
}

/** One PostgreSQL for the run (embedded, with wal_level=logical); each test file makes its own database on it. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startPostgres({ allowExternal: false })
  project.provide('postgresPackageUrl', server.url)
  return () => server.stop()
}
