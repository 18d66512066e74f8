export {
  type Availability,
  type AvailabilityQuery,
  loadAvailability,
} from './availability/load-availability.js'
export type { BookedTime, BookingEvent } from './bookings/booking-events.js'
export { type Booking, BookingRepository, type ConfirmBookingInput } from './bookings/booking-repository.js'
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
export {
  type Change,
  ChangeListener,
  type ChangeListenerEvents,
  type ChangeListenerOptions,
} from './changes/change-listener.js'
export {
  HistoryPruner,
  type HistoryPrunerEvents,
  type HistoryPrunerOptions,
  type PruneResult,
} from './db/history-pruner.js'
export { migrate } from './db/migrate.js'
export {
  BookingDemoError,
  type BookingDemoErrorCode,
  SlotTakenError,
} from './errors.js'
export {
  type OutboxMessage,
  OutboxRelay,
  type OutboxRelayEvents,
  type OutboxRelayOptions,
} from './outbox/outbox-relay.js'
export { demoIds, seedDemoData } from './seed/seed-demo-data.js'
