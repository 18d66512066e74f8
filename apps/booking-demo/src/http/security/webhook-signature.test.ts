import { errorCode } from '@cachesaga/common'
import { describe, expect, it } from 'vitest'
import { isWebhookSecret, newWebhookSecret, signWebhook, verifyWebhook } from './webhook-signature.js'

/** The reason a delivery was refused, read from the error's fields (never its message), or 'accepted'. */
function verdict(secret: string, headers: Record<string, string>, body: string, nowMs: number): string {
  try {
    verifyWebhook(secret, headers, Buffer.from(body), { toleranceMs: 300_000, nowMs })
    return 'accepted'
  } catch (error) {
    expect(errorCode(error)).toBe('BOOKING_ERR_WEBHOOK_SIGNATURE')
    return (error as { details: { reason: string } }).details.reason
  }
}

describe('webhook signatures (Standard Webhooks)', () => {
  // The specification's published example: a provider using any of its libraries signs exactly this.
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
  const body = '{"test": 2432232314}'
  const at = 1_614_265_330
  const headers = {
    'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek',
    'webhook-timestamp': String(at),
    'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
  }

  it("signs the specification's example exactly as its reference implementations do", () => {
    expect(signWebhook(secret, body, { id: headers['webhook-id'], timestamp: at })).toEqual(headers)
  })

  it('accepts the example within the window, and among several signatures while a secret is rotated', () => {
    expect(verdict(secret, headers, body, at * 1_000 + 299_000)).toBe('accepted')
    const rotated = {
      ...headers,
      'webhook-signature': `v1,${'A'.repeat(43)}= ${headers['webhook-signature']}`,
    }
    expect(verdict(secret, rotated, body, at * 1_000)).toBe('accepted')
  })

  it('refuses a replay older than the window, and a delivery dated ahead of it', () => {
    expect(verdict(secret, headers, body, at * 1_000 + 301_000)).toBe('outside-window')
    expect(verdict(secret, headers, body, at * 1_000 - 301_000)).toBe('outside-window')
  })

  it('refuses a tampered body, another id or timestamp, another secret, and a signature of another version', () => {
    const now = at * 1_000
    expect(verdict(secret, headers, '{"test": 2432232315}', now)).toBe('mismatch')
    expect(verdict(secret, { ...headers, 'webhook-id': 'msg_other' }, body, now)).toBe('mismatch')
    expect(verdict(secret, { ...headers, 'webhook-timestamp': String(at + 1) }, body, now)).toBe('mismatch')
    expect(verdict(newWebhookSecret(), headers, body, now)).toBe('mismatch')
    const v2 = { ...headers, 'webhook-signature': headers['webhook-signature'].replace('v1,', 'v2,') }
    expect(verdict(secret, v2, body, now)).toBe('mismatch')
  })

  it('refuses a delivery without any of the three headers, or with a timestamp that is not Unix seconds', () => {
    for (const name of Object.keys(headers)) {
      const { [name as keyof typeof headers]: _, ...without } = headers
      expect(verdict(secret, without, body, at * 1_000)).toBe('missing')
    }
    expect(verdict(secret, { ...headers, 'webhook-timestamp': '2021-02-25' }, body, at * 1_000)).toBe(
      'malformed',
    )
  })

  it('takes as secrets only whsec_ and base64 of 24 to 64 bytes', () => {
    expect(isWebhookSecret(secret)).toBe(true)
    expect(isWebhookSecret(newWebhookSecret())).toBe(true)
    expect(isWebhookSecret(`whsec_${Buffer.alloc(64).toString('base64')}`)).toBe(true)
    expect(isWebhookSecret(`whsec_${Buffer.alloc(23).toString('base64')}`)).toBe(false)
    expect(isWebhookSecret(`whsec_${Buffer.alloc(65).toString('base64')}`)).toBe(false)
    expect(isWebhookSecret(secret.slice('whsec_'.length))).toBe(false)
    expect(isWebhookSecret('whsec_not base64 at all!')).toBe(false)
  })
})
