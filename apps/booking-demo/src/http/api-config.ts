import { durationSchema } from '@cachesaga/common'
import { z } from 'zod'
import { parseInput } from '../parse-input.js'
import { readStoresEnv, type StoresEnv } from '../processes/process-env.js'
import { demoIds } from '../seed/seed-demo-data.js'
import { isWebhookSecret } from './security/webhook-signature.js'

/** A password long enough that guessing it over HTTP is hopeless (`pnpm demo` generates 32 characters). */
const passwordSchema = z.string().min(16, 'at least 16 characters')
/** Requests per client and window; 0 is not a limit anyone means, so it is refused. */
const limitSchema = z.coerce.number().int().positive()

const apiEnvSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65_535).default(3_000),
  HOST: z.string().min(1).default('127.0.0.1'),
  /** Names this instance's change-listener checkpoint and its PostgreSQL connections; one per API instance. */
  INSTANCE_NAME: z
    .string()
    .regex(/^[a-z0-9-]+$/)
    .default('api'),
  /** The tenant this deployment serves (a real one would take it from the caller's credentials). */
  TENANT_ID: z.uuid().default(demoIds.tenant),
  /** HTTP Basic password of the user `operator`: every `/admin` page, and bull-board's actions. Required. */
  ADMIN_OPERATOR_PASSWORD: passwordSchema,
  /** HTTP Basic password of the user `viewer`: every `/admin` page read-only. Without it there is no viewer. */
  ADMIN_VIEWER_PASSWORD: passwordSchema.optional(),
  /** The secret calendar providers sign webhooks with: `whsec_` and base64 of 24 to 64 random bytes. Required. */
  WEBHOOK_SECRET: z.string().refine(isWebhookSecret, 'expected whsec_ and base64 of 24 to 64 bytes'),
  /** How far a webhook's timestamp may be from now (either way) before it is refused as a replay. */
  WEBHOOK_TOLERANCE: durationSchema.default(5 * 60_000),
  /** The window the rate limits count in. */
  RATE_LIMIT_WINDOW: durationSchema.default(60_000).refine((ms) => ms > 0, 'must be positive'),
  /** `GET /availability` requests per client address and window, over all API instances together. */
  RATE_LIMIT_READS: limitSchema.default(300),
  /** Booking, cancellation and reschedule requests per client address and window, over all instances. */
  RATE_LIMIT_BOOKINGS: limitSchema.default(30),
  /** Webhook deliveries per sender address and window, over all instances. */
  RATE_LIMIT_WEBHOOKS: limitSchema.default(120),
  /** The largest request body accepted, in bytes (the API's bodies are well under 1 KiB). */
  BODY_LIMIT_BYTES: z.coerce.number().int().min(1_024).max(1_048_576).default(16_384),
  /**
   * The proxies in front of the API (comma-separated addresses or CIDR ranges) whose `X-Forwarded-For` is
   * believed; without it the client address is the connection's, so behind a proxy every client would share
   * one rate-limit budget.
   */
  TRUST_PROXY: z
    .string()
    .min(1)
    .transform((list) => list.split(',').map((entry) => entry.trim()))
    .optional(),
})

export type ApiConfig = StoresEnv & z.output<typeof apiEnvSchema>

/** Reads the API's configuration from the environment; a bad variable fails naming it. */
export function readApiConfig(env: NodeJS.ProcessEnv): ApiConfig {
  return { ...readStoresEnv(env), ...parseInput(apiEnvSchema, env, 'env') }
}
