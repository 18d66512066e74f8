/** A JSON answer of the API. */
interface ApiAnswer<T = Record<string, unknown>> {
  status: number
  body: T
}

export interface AvailabilityAnswer {
  slots: { startsAt: string; endsAt: string }[]
  cache: { tier: string; generation: string; durationMs: number; servedAt: number }
}

/** What the scenario and the end-to-end tests say to one API process. */
export class ApiClient {
  constructor(readonly baseUrl: string) {}

  async get<T = Record<string, unknown>>(path: string): Promise<ApiAnswer<T>> {
    const response = await fetch(new URL(path, this.baseUrl))
    return { status: response.status, body: (await response.json()) as T }
  }

  async post<T = Record<string, unknown>>(path: string, body: unknown): Promise<ApiAnswer<T>> {
    const response = await fetch(new URL(path, this.baseUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
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
