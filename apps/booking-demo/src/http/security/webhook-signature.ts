import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'
import { BookingDemoError } from '../../errors.js'

/**
 * Webhook signatures as the Standard Webhooks specification (standardwebhooks.com) defines them, so a provider
 * can use any of its libraries: three headers, `webhook-id` (the delivery's id, the same on each retry),
 * `webhook-timestamp` (Unix seconds) and `webhook-signature` (`v1,` and the base64 HMAC-SHA256 of
 * `<id>.<timestamp>.<raw body>`, several separated by spaces while a secret is being rotated), with the key the
 * base64 bytes after the secret's `whsec_`.
 */

/** Whether `value` is `whsec_` and base64 of 24 to 64 bytes, as the specification asks of a secret. */
export function isWebhookSecret(value: string): boolean {
  const encoded = value.slice('whsec_'.length)
  if (
    !value.startsWith('whsec_') ||
    !/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(encoded)
  ) {
    return false
  }
  const bytes = Buffer.from(encoded, 'base64').length
  return bytes >= 24 && bytes <= 64
}

/** Why a delivery was refused; in the answer's `details.reason`. */
export type WebhookRefusal = 'missing' | 'malformed' | 'outside-window' | 'mismatch'

/** A new secret for a provider to sign with: 32 random bytes. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`
}

function keyOf(secret: string): Buffer {
  return Buffer.from(secret.slice('whsec_'.length), 'base64')
}

function signature(key: Buffer, id: string, timestamp: string, body: Buffer | string): Buffer {
  return createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest()
}

/**
 * The headers a provider sends with `body` (the exact bytes it posts): what the demo's scenario and the tests
 * use to call the webhook as a provider would. `timestamp` (Unix seconds) defaults to now.
 */
export function signWebhook(
  secret: string,
  body: string,
  delivery: { id?: string; timestamp?: number } = {},
): Record<'webhook-id' | 'webhook-timestamp' | 'webhook-signature', string> {
  const id = delivery.id ?? `msg_${randomUUID()}`
  const timestamp = String(delivery.timestamp ?? Math.floor(Date.now() / 1_000))
  return {
    'webhook-id': id,
    'webhook-timestamp': timestamp,
    'webhook-signature': `v1,${signature(keyOf(secret), id, timestamp, body).toString('base64')}`,
  }
}

function refuse(reason: WebhookRefusal, message: string): BookingDemoError {
  return new BookingDemoError('BOOKING_ERR_WEBHOOK_SIGNATURE', message, { details: { reason } })
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? undefined : value
}

/**
 * Throws `BOOKING_ERR_WEBHOOK_SIGNATURE` unless `rawBody` carries a signature of `secret` from a timestamp within
 * `toleranceMs` of `nowMs` (either way: a replay of an old delivery is refused, and so is one dated ahead to
 * outlive the window). Signatures are compared in constant time.
 */
export function verifyWebhook(
  secret: string,
  headers: IncomingHttpHeaders,
  rawBody: Buffer,
  window: { toleranceMs: number; nowMs?: number },
): void {
  const id = single(headers['webhook-id'])
  const timestamp = single(headers['webhook-timestamp'])
  const signatures = single(headers['webhook-signature'])
  if (!id || !timestamp || !signatures) {
    throw refuse('missing', 'a webhook needs the webhook-id, webhook-timestamp and webhook-signature headers')
  }
  if (!/^\d{1,12}$/.test(timestamp)) throw refuse('malformed', 'webhook-timestamp is not Unix seconds')
  const ageMs = (window.nowMs ?? Date.now()) - Number(timestamp) * 1_000
  if (Math.abs(ageMs) > window.toleranceMs) {
    throw refuse(
      'outside-window',
      `the webhook is dated ${Math.round(ageMs / 1_000)} s from now, beyond the ${window.toleranceMs / 1_000} s allowed`,
    )
  }
  const expected = signature(keyOf(secret), id, timestamp, rawBody)
  const matches = signatures.split(' ').some((entry) => {
    const [version, value] = entry.split(',', 2)
    if (version !== 'v1' || value === undefined) return false
    const presented = Buffer.from(value, 'base64')
    // The length is no secret (every v1 signature is 32 bytes); timingSafeEqual needs equal lengths.
    return presented.length === expected.length && timingSafeEqual(presented, expected)
  })
  if (!matches) throw refuse('mismatch', 'the webhook signature does not match its body')
}
