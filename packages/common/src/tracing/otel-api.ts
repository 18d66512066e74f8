import { createRequire } from 'node:module'
import type * as OtelApiModule from '@opentelemetry/api'
import { errorCode } from '../errors/cachesaga-error.js'

export type OtelApi = typeof OtelApiModule

/**
 * `@opentelemetry/api` as the application installed it (an optional peer dependency), or undefined when it did not:
 * then no cachesaga package traces anything, and nothing else changes.
 *
 * Loaded with `require`, not a static import: a static import of a missing package fails the whole module graph, and
 * a top-level `await import()` would stop CommonJS callers from `require()`-ing this package. Which copy of the API is
 * loaded does not matter: it keeps what the application registered (tracer provider, context manager, propagator) on
 * `globalThis`, shared by every copy.
 */
export const otel: OtelApi | undefined = loadOtelApi(createRequire(import.meta.url))

/**
 * Resolves first, then loads: only "not installed" means "no tracing". A copy that is installed but fails to load is
 * a broken install, and its error is thrown rather than hidden.
 */
export function loadOtelApi(require: NodeJS.Require): OtelApi | undefined {
  let path: string
  try {
    path = require.resolve('@opentelemetry/api')
  } catch (error) {
    if (errorCode(error) === 'MODULE_NOT_FOUND') return undefined
    throw error
  }
  return require(path) as OtelApi
}
