import ICAL from 'ical.js'
import type { BusyWindow } from '../calendar-provider.js'
import { isKnownTimeZone, wallTimeToInstant } from './wall-time.js'

/** The property the demo writes on the events of its own bookings. */
export const BOOKING_ID_PROPERTY = 'x-cachesaga-booking-id'

/** A recurrence that would yield more occurrences than this inside the window is cut there (a runaway rule). */
const MAX_OCCURRENCES = 5_000

export interface BusyInterval {
  startsAt: Date
  endsAt: Date
}

export interface BusyReading {
  /** The booking id the demo stamped on the event, or null for everyone else's events. */
  bookingId: string | null
  /** Busy intervals inside the window, in start order. */
  busy: BusyInterval[]
}

type IcalTime = InstanceType<typeof ICAL.Time>
type IcalComponent = InstanceType<typeof ICAL.Component>

/**
 * Reads the busy time of one calendar object (an iCalendar document: one event, or a recurring event with
 * its exceptions) inside `window`. Recurrences (`RRULE`, `RDATE`, `EXDATE`, overridden and cancelled
 * instances) are expanded by ical.js. Times keep their zone from the event: the `TZID` as an IANA zone when
 * the runtime knows it, else the `VTIMEZONE` the document defines for it, else (floating times, all-day
 * events) `timeZone`.
 * Cancelled (`STATUS:CANCELLED`) and free (`TRANSP:TRANSPARENT`) occurrences are not busy.
 * Throws when the document does not parse.
 */
export function readBusyTime(ics: string, options: { window: BusyWindow; timeZone: string }): BusyReading {
  const root = new ICAL.Component(ICAL.parse(ics))
  const events = root.getAllSubcomponents('vevent')
  const bookingId = events
    .map((event) => event.getFirstPropertyValue(BOOKING_ID_PROPERTY))
    .find((value) => typeof value === 'string')
  const masters = events.filter((event) => !event.hasProperty('recurrence-id'))
  const overrides = events.filter((event) => event.hasProperty('recurrence-id'))
  const uids = new Set(masters.map((event) => event.getFirstPropertyValue('uid')))
  const busy: BusyInterval[] = []
  for (const master of masters) {
    const uid = master.getFirstPropertyValue('uid')
    const exceptions = overrides.filter((event) => event.getFirstPropertyValue('uid') === uid)
    busy.push(...occurrences(new ICAL.Event(master, { exceptions }), options))
  }
  // An override whose master is not in this object (allowed by RFC 4791 for invitations) stands alone.
  for (const orphan of overrides.filter((event) => !uids.has(event.getFirstPropertyValue('uid')))) {
    busy.push(...occurrences(new ICAL.Event(orphan), options))
  }
  busy.sort((a, b) => a.startsAt.getTime() - b.startsAt.getTime())
  return { bookingId: bookingId ?? null, busy }
}

function occurrences(
  event: InstanceType<typeof ICAL.Event>,
  { window, timeZone }: { window: BusyWindow; timeZone: string },
): BusyInterval[] {
  const found: BusyInterval[] = []
  const add = (item: InstanceType<typeof ICAL.Event>, start: IcalTime, end: IcalTime | null) => {
    if (!isBusy(item.component)) return
    const startsAt = toInstant(start, item.component, 'dtstart', timeZone)
    const endsAt =
      end === null
        ? allDayEnd(start, item.component, timeZone)
        : toInstant(end, item.component, 'dtend', timeZone)
    if (startsAt < endsAt && endsAt > window.from && startsAt < window.to) found.push({ startsAt, endsAt })
  }
  if (!event.isRecurring()) {
    add(event, event.startDate, endOf(event.startDate, event.endDate))
    return found
  }
  const iterator = event.iterator()
  for (let count = 0; count < MAX_OCCURRENCES; count++) {
    const next = iterator.next()
    if (!next) break
    const details = event.getOccurrenceDetails(next)
    // Occurrences come in start order, but an override may move one earlier: only the rule's own start stops.
    if (toInstant(next, event.component, 'dtstart', timeZone) >= window.to) break
    add(details.item, details.startDate, endOf(details.startDate, details.endDate))
  }
  return found
}

/**
 * An all-day event without an end lasts its day; a timed one without an end takes no time (RFC 5545).
 * No comparison here: comparing ical.js times expands their zone's rules, the slowest thing ical.js does,
 * and the caller drops intervals that end before they start anyway.
 */
function endOf(start: IcalTime, end: IcalTime | null | undefined): IcalTime | null {
  if (end) return end
  return start.isDate ? null : start
}

function allDayEnd(start: IcalTime, component: IcalComponent, timeZone: string): Date {
  const next = start.clone()
  next.adjust(1, 0, 0, 0)
  return toInstant(next, component, 'dtstart', timeZone)
}

function isBusy(component: IcalComponent): boolean {
  const status = String(component.getFirstPropertyValue('status') ?? '').toUpperCase()
  const transparency = String(component.getFirstPropertyValue('transp') ?? '').toUpperCase()
  return status !== 'CANCELLED' && transparency !== 'TRANSPARENT'
}

/**
 * The instant of an iCalendar time. A `TZID` naming a zone the runtime knows (an IANA name, which is what
 * servers generate their `VTIMEZONE`s from) is read from the runtime's zone database, quickly; a zone only
 * the object defines (`TZID:Clinic Time` with its `VTIMEZONE`) is converted by ical.js; floating times and
 * dates belong to the calendar owner's zone. A `TZID` that is neither fails, and the object is unreadable.
 */
function toInstant(
  time: IcalTime,
  component: IcalComponent,
  property: 'dtstart' | 'dtend',
  timeZone: string,
): Date {
  if (!time.isDate && time.zone?.tzid === 'UTC') return new Date(time.toUnixTime() * 1000)
  const tzid = time.isDate ? undefined : tzidOf(component, property)
  if (tzid !== undefined && !isKnownTimeZone(tzid) && time.zone?.component) {
    return new Date(time.toUnixTime() * 1000)
  }
  return wallTimeToInstant(
    {
      year: time.year,
      month: time.month,
      day: time.day,
      hour: time.isDate ? 0 : time.hour,
      minute: time.isDate ? 0 : time.minute,
      second: time.isDate ? 0 : time.second,
    },
    tzid ?? timeZone,
  )
}

function tzidOf(component: IcalComponent, property: 'dtstart' | 'dtend'): string | undefined {
  const own = component.getFirstProperty(property) ?? component.getFirstProperty('dtstart')
  const tzid = own?.getParameter('tzid')
  return typeof tzid === 'string' ? tzid : undefined
}
