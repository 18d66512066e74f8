import { redactUrl } from '@cachesaga/common'
import { CalendarError, type CalendarErrorCode } from '../calendar-error.js'

/**
 * The only way the CalDAV provider reaches the network: every request (tsdav's included, through its
 * `fetch` override) gets the credentials, a deadline that covers the body too, a count, and failures
 * turned into coded errors naming the server with its password redacted. Statuses worth retrying
 * (5xx, 429) throw here; the caller judges the others, which mean different things per request.
 */
export class CalDavTransport {
  /** Requests sent since this transport was made (the benchmark reports it). */
  requestsSent = 0
  /** The calendar home without credentials. */
  readonly homeUrl: string
  /** The server as errors and logs name it: the configured URL with its password replaced by `***`. */
  readonly server: string
  private readonly authorization: string | undefined

  constructor(
    url: string,
    private readonly timeoutMs: number,
  ) {
    const parsed = new URL(url)
    this.server = redactUrl(url)
    this.authorization =
      parsed.username === ''
        ? undefined
        : `Basic ${Buffer.from(`${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`).toString('base64')}`
    // fetch refuses URLs with credentials; they travel in the Authorization header instead.
    parsed.username = ''
    parsed.password = ''
    if (!parsed.pathname.endsWith('/')) parsed.pathname += '/'
    this.homeUrl = parsed.href
  }

  /** A `fetch` for tsdav. The response it returns is complete: its body was read within the deadline. */
  readonly fetch = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const url = input instanceof Request ? input.url : String(input)
    const method = init.method ?? 'GET'
    const headers = new Headers(init.headers)
    if (this.authorization !== undefined) headers.set('authorization', this.authorization)
    this.requestsSent++
    let response: Response
    let body: ArrayBuffer
    try {
      response = await fetch(url, { ...init, headers, signal: AbortSignal.timeout(this.timeoutMs) })
      body = await response.arrayBuffer()
    } catch (error) {
      const timedOut = (error as Error).name === 'TimeoutError'
      const reason = timedOut ? `no answer within ${this.timeoutMs} ms` : describeNetworkError(error)
      throw new CalendarError(
        'BOOKING_ERR_CALENDAR_UNAVAILABLE',
        `${method} to ${this.server} failed: ${reason}`,
        {
          cause: error,
          details: { server: this.server, method, path: new URL(url).pathname, timedOut },
        },
      )
    }
    if (response.status >= 500 || response.status === 429) {
      throw this.failure('BOOKING_ERR_CALENDAR_UNAVAILABLE', method, url, response.status)
    }
    return new Response(response.status === 204 || response.status === 304 ? null : body, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    })
  }

  /** A coded error for an answer with `status`, naming the server (redacted), the method and the path. */
  failure(code: CalendarErrorCode, method: string, url: string, status: number): CalendarError {
    const path = new URL(url).pathname
    return new CalendarError(code, `${method} ${path} on ${this.server} answered ${status}`, {
      details: { server: this.server, method, path, status },
    })
  }
}

/** Node's fetch hides the socket error (ECONNREFUSED, ECONNRESET...) in `cause`. */
function describeNetworkError(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause
  if (typeof cause?.code === 'string') return cause.code
  return typeof cause?.message === 'string' ? cause.message : (error as Error).message
}
