import { startPostgres } from '@cachesaga/testkit'
import type { TestProject } from 'vitest/node'

declare module 'vitest' {
  export interface ProvidedContext {
    bookingDemoPostgresUrl: string
  }
}

/**
 * One PostgreSQL for the whole run (embedded, or `DATABASE_URL`); each test file makes its own database on it. It
 * keeps PostgreSQL's durable settings (fsync, synchronous commits, full-page writes), as `pnpm demo`'s does: the
 * sagas' runner refuses a saga store without them.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startPostgres({ durable: true })
  project.provide('bookingDemoPostgresUrl', server.url)
  return () => server.stop()
}
