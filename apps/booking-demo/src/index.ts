export {
  type Availability,
  type AvailabilityQuery,
  loadAvailability,
} from './availability/load-availability.js'
export { type BookingEvent, eventIdOf } from './bookings/booking-events.js'
export {
  type Booking,
  type BookingChange,
  BookingRepository,
  type ConfirmBookingInput,
  type RescheduleBookingInput,
} from './bookings/booking-repository.js'
export { bookingCacheMapping } from './cache/availability-mapping.js'
export { changeCapture } from './cache/change-capture.js'
export {
  CalDavCalendarProvider,
  type CalDavCalendarProviderOptions,
} from './calendar/caldav/caldav-calendar-provider.js'
export { type Appointment, OtherCalendarApp } from './calendar/caldav/other-calendar-app.js'
export { CalendarError, type CalendarErrorCode } from './calendar/calendar-error.js'
export type {
  BookingCalendarEvent,
  BusyWindow,
  CalendarChanges,
  CalendarProvider,
} from './calendar/calendar-provider.js'
export { type CalendarSyncResult, type FullSyncReason, syncCalendar } from './calendar/sync-calendar.js'
export { migrate } from './db/migrate.js'
export { withTransaction } from './db/transaction.js'
export { BookingDemoError, type BookingDemoErrorCode, SlotTakenError } from './errors.js'
export { demoIds, seedDemoData } from './seed/seed-demo-data.js'
