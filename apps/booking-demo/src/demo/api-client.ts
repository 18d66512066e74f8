import { basicAuthorization } from '../http/security/operator-credentials.js'
import { signWebhook } from '../http/security/webhook-signature.js'
import type { StackSecrets } from './stack-secrets.js'

/** A JSON answer of the API. */
export interface ApiAnswer<T = Record<string, unknown>> {
  status: number
  body: T
}

export interface AvailabilityAnswer {
  slots: { startsAt: string; endsAt: string }[]
  cache: { tier: string; generation: string; durationMs: number; servedAt: number }
}

/** The header that presents a booking's management token, for cancelling or moving it. */
export function tokenHeader(managementToken: string): Record<string, string> {
  return { authorization: `Bearer ${managementToken}` }
}

/**
 * What the scenario and the end-to-end tests say to one API process: as a customer (public reads, bookings with
 * their management tokens), as an operator (`admin`, with the stack's operator credential) and as the calendar
 * provider (`webhook`, signed with the stack's webhook secret).
 */
export class ApiClient {
  constructor(
    readonly baseUrl: string,
    private readonly secrets?: StackSecrets,
  ) {}

  async get<T = Record<string, unknown>>(
    path: string,
    headers: Record<string, string> = {},
  ): Promise<ApiAnswer<T>> {
    const response = await fetch(new URL(path, this.baseUrl), { headers })
    return { status: response.status, body: (await response.json()) as T }
  }

  async post<T = Record<string, unknown>>(
    path: string,
    body: unknown,
    headers: Record<string, string> = {},
  ): Promise<ApiAnswer<T>> {
    const response = await fetch(new URL(path, this.baseUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    })
    return { status: response.status, body: (await response.json()) as T }
  }

  /** `GET` of an operator's route (`/admin/...`) as the operator. */
  admin<T = Record<string, unknown>>(path: string): Promise<ApiAnswer<T>> {
    return this.get<T>(path, { authorization: basicAuthorization(this.required().operator) })
  }

  /** `POST` of a webhook as the calendar provider sends it: the exact body bytes, signed. */
  async webhook<T = Record<string, unknown>>(path: string, body: unknown): Promise<ApiAnswer<T>> {
    const text = JSON.stringify(body)
    const response = await fetch(new URL(path, this.baseUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...signWebhook(this.required().webhookSecret, text) },
      body: text,
    })
    return { status: response.status, body: (await response.json()) as T }
  }

  async availability(staffId: string, serviceId: string, date: string): Promise<AvailabilityAnswer> {
    const answer = await this.get<AvailabilityAnswer>(
      `/availability?staffId=${staffId}&serviceId=${serviceId}&date=${date}`,
    )
    if (answer.status !== 200)
      throw new Error(`GET /availability answered ${answer.status}: ${JSON.stringify(answer.body)}`)
    return answer.body
  }

  private required(): StackSecrets {
    if (this.secrets === undefined) throw new Error(`no credentials for ${this.baseUrl}`)
    return this.secrets
  }
}

/** Polls `check` every 50 ms until it returns true or `deadlineMs` passes; resolves with the time it took. */
export async function waitFor(check: () => Promise<boolean>, deadlineMs: number): Promise<number> {
  const started = performance.now()
  for (;;) {
    if (await check()) return performance.now() - started
    if (performance.now() - started > deadlineMs) throw new Error(`not true within ${deadlineMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}
