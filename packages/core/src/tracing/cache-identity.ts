/**
 * Which cache a span is about: its namespace, and its tenant when it has one. Apart from cache-tracing.ts so that the
 * types of the read path, which the public ones reach, never name `@opentelemetry/api` (an optional peer).
 */
export type CacheIdentity = { namespace: string; tenant?: string | undefined }
