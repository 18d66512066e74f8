import { durationSchema } from '@cachesaga/common'
import { deleteObject, makeCalendar, propfind, syncCollection, updateObject } from 'tsdav'
import { z } from 'zod'
import { parseInput } from '../../parse-input.js'
import { CalendarError } from '../calendar-error.js'
import type {
  BookingCalendarEvent,
  BusyWindow,
  CalendarChanges,
  CalendarProvider,
} from '../calendar-provider.js'
import { bookingEventIcs } from '../ical/booking-event-ics.js'
import { readBusyTime } from '../ical/busy-time.js'
import { CalDavTransport } from './caldav-transport.js'

export interface CalDavCalendarProviderOptions {
  /**
   * The calendar home on the CalDAV server, e.g. `https://user:app-password@caldav.example.com/dav/calendars/user/`
   * or, for a Radicale started by testkit, `http://demo:any@127.0.0.1:5232/demo/`. Credentials in the URL are sent
   * as Basic auth and never appear in errors. Each staff member's calendar id names a collection under it.
   */
  url: string
  /** Deadline of each request, the reading of the answer included. Default `'5s'`. */
  timeout?: number | string
}

const optionsSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/ }),
  timeout: durationSchema.default(5_000),
})

/** Statuses with which servers refuse a sync token (RFC 6578 §3.2: 403 or 409 with `valid-sync-token`; some send 410). */
const TOKEN_REFUSALS = new Set([403, 409, 410])

/**
 * A `CalendarProvider` for any CalDAV server (Radicale, Nextcloud, Fastmail, iCloud...), on tsdav.
 * Reads are RFC 6578 `sync-collection` REPORTs asking for `calendar-data` too, so one request brings the
 * changed events themselves, and an initial (token-less) sync lists the whole calendar. Writes are PUTs
 * of one resource per booking (`<event id>.ics`), so a retry or a move overwrites instead of adding.
 */
export class CalDavCalendarProvider implements CalendarProvider {
  private readonly transport: CalDavTransport

  constructor(options: CalDavCalendarProviderOptions) {
    const { url, timeout } = parseInput(optionsSchema, options, 'options')
    this.transport = new CalDavTransport(url, timeout)
  }

  /** Requests sent so far. */
  get requestsSent(): number {
    return this.transport.requestsSent
  }

  /** The server as errors name it (password redacted). */
  get server(): string {
    return this.transport.server
  }

  /** The collection URL of a calendar id (without credentials). */
  calendarUrl(calendarId: string): string {
    return new URL(`${encodeURIComponent(calendarId)}/`, this.transport.homeUrl).href
  }

  /** Creates the calendar collection (MKCALENDAR) unless it exists. */
  async ensureCalendar(calendarId: string): Promise<void> {
    const url = this.calendarUrl(calendarId)
    // Servers answer MKCALENDAR on an existing collection with 405 or 409, and 409 also means "no parent":
    // asking first keeps the two apart.
    const [found] = await propfind({
      url,
      props: { 'd:resourcetype': {} },
      depth: '0',
      fetch: this.transport.fetch,
    })
    if (found?.ok) return
    if (found?.status !== 404) {
      throw this.transport.failure('BOOKING_ERR_CALENDAR_REFUSED', 'PROPFIND', url, found?.status ?? 0)
    }
    const [made] = await makeCalendar({
      url,
      props: { displayname: calendarId },
      fetch: this.transport.fetch,
    })
    if (!made?.ok)
      throw this.transport.failure('BOOKING_ERR_CALENDAR_REFUSED', 'MKCALENDAR', url, made?.status ?? 0)
  }

  async putEvent(calendarId: string, event: BookingCalendarEvent): Promise<void> {
    const url = this.eventUrl(calendarId, event.id)
    const response = await updateObject({
      url,
      data: bookingEventIcs(event),
      headers: { 'content-type': 'text/calendar; charset=utf-8' },
      fetch: this.transport.fetch,
    })
    if (!response.ok)
      throw this.transport.failure('BOOKING_ERR_CALENDAR_REFUSED', 'PUT', url, response.status)
  }

  async deleteEvent(calendarId: string, eventId: string): Promise<void> {
    const url = this.eventUrl(calendarId, eventId)
    const response = await deleteObject({ url, fetch: this.transport.fetch })
    if (!response.ok && response.status !== 404) {
      throw this.transport.failure('BOOKING_ERR_CALENDAR_REFUSED', 'DELETE', url, response.status)
    }
  }

  async listChanges(
    calendarId: string,
    syncToken: string | null,
    options: { window: BusyWindow; timeZone: string },
  ): Promise<CalendarChanges> {
    const url = this.calendarUrl(calendarId)
    const answers = await syncCollection({
      url,
      props: { 'd:getetag': {}, 'c:calendar-data': {} },
      syncLevel: 1,
      syncToken: syncToken ?? '',
      // RFC 6578 §3.2: the report is sent with Depth 0 (its scope is the body's sync-level); SabreDAV insists.
      headers: { depth: '0' },
      fetch: this.transport.fetch,
    })
    const first = answers[0]
    // tsdav hands back the raw text, not a parsed multistatus, when the request as a whole was answered
    // with an error (or with something other than XML).
    if (first === undefined || typeof first.raw === 'string' || first.raw === undefined) {
      throw this.refusal(first?.status ?? 0, String(first?.raw ?? ''), url, syncToken !== null)
    }
    // A 207 that carries only a status for the collection itself: 507 is RFC 6578's truncated result.
    const collectionPath = new URL(url).pathname
    const events: CalendarChanges['events'] = []
    const unreadable: string[] = []
    for (const answer of answers) {
      if (answer.href === undefined) continue
      const path = new URL(answer.href, url).pathname
      if (decodeURIComponent(path) === decodeURIComponent(collectionPath)) {
        if (answer.status === 507) {
          throw new CalendarError(
            'BOOKING_ERR_CALENDAR_REFUSED',
            `${this.server} truncated the sync of ${collectionPath} (507); paged sync-collection is not supported`,
            { details: { server: this.server, path: collectionPath, status: 507 } },
          )
        }
        continue
      }
      const id = eventIdOf(path)
      if (answer.status === 404) {
        // A deletion. A full listing may name objects deleted long ago too (Radicale does): nothing to replace.
        if (syncToken !== null) events.push({ id, bookingId: null, busy: [] })
        continue
      }
      const data = calendarData(answer.props?.calendarData)
      try {
        if (data === undefined) throw new Error('no calendar-data in the answer')
        events.push({ id, ...readBusyTime(data, options) })
      } catch {
        // Someone else's malformed event must not stop the calendar's sync; its old busy time is dropped.
        unreadable.push(id)
        events.push({ id, bookingId: null, busy: [] })
      }
    }
    const token = (first?.raw as { multistatus?: { syncToken?: unknown } } | undefined)?.multistatus
      ?.syncToken
    if (token === undefined || token === null || token === '') {
      throw new CalendarError(
        'BOOKING_ERR_CALENDAR_REFUSED',
        `${this.server} sent no sync token for ${collectionPath}`,
        {
          details: { server: this.server, path: collectionPath },
        },
      )
    }
    return { fullSync: syncToken === null, events, unreadable, nextSyncToken: String(token) }
  }

  private eventUrl(calendarId: string, eventId: string): string {
    return new URL(`${encodeURIComponent(eventId)}.ics`, this.calendarUrl(calendarId)).href
  }

  private refusal(status: number, body: string, url: string, hadToken: boolean): CalendarError {
    const tokenRefused =
      hadToken && TOKEN_REFUSALS.has(status) && (status === 410 || body.includes('valid-sync-token'))
    return this.transport.failure(
      tokenRefused ? 'BOOKING_ERR_CALENDAR_SYNC_TOKEN_REJECTED' : 'BOOKING_ERR_CALENDAR_REFUSED',
      'REPORT sync-collection',
      url,
      status,
    )
  }
}

/** `/demo/ada%40calendar.example/booking-1.ics` -> `booking-1`. */
function eventIdOf(path: string): string {
  const name = decodeURIComponent(path.replace(/\/$/, '').split('/').at(-1) ?? '')
  return name.endsWith('.ics') ? name.slice(0, -'.ics'.length) : name
}

/** tsdav hands `calendar-data` over as text, or as `{ _cdata }` when the server wrapped it in CDATA. */
function calendarData(value: unknown): string | undefined {
  if (typeof value === 'string') return value
  const cdata = (value as { _cdata?: unknown } | undefined)?._cdata
  return typeof cdata === 'string' ? cdata : undefined
}
