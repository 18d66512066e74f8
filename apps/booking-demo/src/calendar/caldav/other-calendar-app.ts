import { createCalendarObject, deleteCalendarObject, getBasicAuthHeaders, updateCalendarObject } from 'tsdav'

/** An appointment as a person enters it in their calendar app: local wall times in their zone. */
export interface Appointment {
  /** The resource name on the server (`<name>.ics`) and the event's UID. */
  name: string
  /** Local date-time without zone, `2026-01-12T09:00`. */
  start: string
  end: string
  /** IANA zone the times are in; written as `TZID` (without a `VTIMEZONE`, as many apps do). */
  timeZone: string
  /** An RFC 5545 rule, e.g. `FREQ=WEEKLY;COUNT=4`. */
  rrule?: string
}

/**
 * Another calendar app writing into a staff member's CalDAV calendar, the way the demo's users' phones
 * and laptops do: its own iCalendar text, straight through tsdav with its own fetch. None of the demo's
 * calendar code is involved, so what the sync reads back is what a foreign client wrote. Used by the
 * demo's scenario, the tests and the benchmark.
 */
export class OtherCalendarApp {
  private readonly headers: Record<string, string>
  private readonly homeUrl: string

  /** `url` is the calendar home, as for `CalDavCalendarProvider` (credentials in the URL). */
  constructor(url: string) {
    const parsed = new URL(url)
    this.headers = getBasicAuthHeaders({
      username: decodeURIComponent(parsed.username),
      password: decodeURIComponent(parsed.password),
    })
    parsed.username = ''
    parsed.password = ''
    this.homeUrl = parsed.href.endsWith('/') ? parsed.href : `${parsed.href}/`
  }

  /** Creates the appointment, or replaces it when one of that name exists (a moved appointment). */
  async put(calendarId: string, appointment: Appointment): Promise<void> {
    await this.putIcs(calendarId, appointment.name, appointmentIcs(appointment))
  }

  /** Writes any iCalendar text as the resource `<name>.ics`. */
  async putIcs(calendarId: string, name: string, ics: string): Promise<void> {
    const calendar = { url: this.calendarUrl(calendarId) }
    const url = new URL(`${encodeURIComponent(name)}.ics`, calendar.url).href
    const response = await updateCalendarObject({
      calendarObject: { url, data: ics },
      headers: this.headers,
      fetchOptions: { signal: AbortSignal.timeout(10_000) },
    })
    if (!response.ok) {
      // The resource may need creating with If-None-Match on servers that refuse a blind PUT.
      const created = await createCalendarObject({
        calendar,
        filename: `${encodeURIComponent(name)}.ics`,
        iCalString: ics,
        headers: this.headers,
        fetchOptions: { signal: AbortSignal.timeout(10_000) },
      })
      if (!created.ok) throw new Error(`PUT ${url} answered ${response.status}, then ${created.status}`)
    }
  }

  async delete(calendarId: string, name: string): Promise<void> {
    const url = new URL(`${encodeURIComponent(name)}.ics`, this.calendarUrl(calendarId)).href
    const response = await deleteCalendarObject({
      calendarObject: { url, data: '' },
      headers: this.headers,
      fetchOptions: { signal: AbortSignal.timeout(10_000) },
    })
    if (!response.ok) throw new Error(`DELETE ${url} answered ${response.status}`)
  }

  private calendarUrl(calendarId: string): string {
    return new URL(`${encodeURIComponent(calendarId)}/`, this.homeUrl).href
  }
}

/** The iCalendar text another app writes for an appointment (CRLF lines, as RFC 5545 asks). */
export function appointmentIcs(appointment: Appointment): string {
  const local = (value: string) => value.replace(/[-:]/g, '').slice(0, 13).padEnd(15, '0')
  return [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//Another App//Calendar 1.0//EN',
    'BEGIN:VEVENT',
    `UID:${appointment.name}`,
    'DTSTAMP:20260101T000000Z',
    `DTSTART;TZID=${appointment.timeZone}:${local(appointment.start)}`,
    `DTEND;TZID=${appointment.timeZone}:${local(appointment.end)}`,
    ...(appointment.rrule === undefined ? [] : [`RRULE:${appointment.rrule}`]),
    `SUMMARY:${appointment.name}`,
    'END:VEVENT',
    'END:VCALENDAR',
    '',
  ].join('\r\n')
}
