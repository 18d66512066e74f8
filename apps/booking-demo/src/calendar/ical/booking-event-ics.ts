import ICAL from 'ical.js'
import type { BookingCalendarEvent } from '../calendar-provider.js'
import { BOOKING_ID_PROPERTY } from './busy-time.js'

/**
 * The iCalendar document of a booking's event: UTC times, a stable UID, and the booking id in
 * `X-CACHESAGA-BOOKING-ID` so the sync recognises the app's own events (their time is in `bookings`).
 */
export function bookingEventIcs(event: BookingCalendarEvent, now = new Date()): string {
  const calendar = new ICAL.Component(['vcalendar', [], []])
  calendar.addPropertyWithValue('version', '2.0')
  calendar.addPropertyWithValue('prodid', '-//cachesaga//booking-demo//EN')
  const vevent = new ICAL.Component('vevent')
  vevent.addPropertyWithValue('uid', `${event.id}@cachesaga`)
  vevent.addPropertyWithValue('dtstamp', utc(now))
  vevent.addPropertyWithValue('dtstart', utc(event.startsAt))
  vevent.addPropertyWithValue('dtend', utc(event.endsAt))
  vevent.addPropertyWithValue('summary', `Booking ${event.bookingId.slice(0, 8)}`)
  vevent.addPropertyWithValue(BOOKING_ID_PROPERTY, event.bookingId)
  calendar.addSubcomponent(vevent)
  return calendar.toString()
}

function utc(instant: Date): InstanceType<typeof ICAL.Time> {
  return ICAL.Time.fromJSDate(instant, true)
}
