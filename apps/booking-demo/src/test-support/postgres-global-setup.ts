import { startPostgres } from '@cachesaga/testkit'
import type { TestProject } from 'vitest/node'

declare module 'vitest' {
  export interface ProvidedContext {
    bookingDemoPostgresUrl: string
  }
}

/** One PostgreSQL for the whole run (embedded, or `DATABASE_URL`); each test file makes its own database on it. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startPostgres()
  project.provide('bookingDemoPostgresUrl', server.url)
  return () => server.stop()
}
