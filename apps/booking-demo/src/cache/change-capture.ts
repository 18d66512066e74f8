import { type CapturedRow, defineChangeCapture, watchTable } from '@cachesaga/postgres'
import { bookedSlot, bookingCacheMapping, targetForStaffEdit } from './availability-mapping.js'

/**
 * Which tables @cachesaga/postgres watches and what a changed row makes stale, whoever changed it: the app, a
 * migration or a person in `psql`. Old and new row are both mapped, so a booking moved from Monday to Tuesday
 * drops both days. Together with `availability-mapping.ts`, this is all the demo says about invalidation.
 */
export const changeCapture = defineChangeCapture({
  tables: [
    watchTable('public.staff', {
      columns: ['id', 'tenant_id'],
      targets: (row) => (row.tenant_id === null ? undefined : targetForStaffEdit(row.tenant_id, row.id)),
    }),
    watchTable('public.weekly_schedules', {
      columns: ['tenant_id', 'staff_id'],
      targets: (row) =>
        row.tenant_id === null ? undefined : targetForStaffEdit(row.tenant_id, row.staff_id),
    }),
    // A service's length shapes the slot grid of every staff member of the tenant.
    watchTable('public.services', {
      columns: ['tenant_id'],
      targets: (row) => (row.tenant_id === null ? undefined : targetForStaffEdit(row.tenant_id, null)),
    }),
    // The booking sagas invalidate these days themselves (so the instance that answers shows its own write at
    // once); the capture also covers bookings written by hand, and a saga whose runner died before its step.
    watchTable('public.bookings', {
      columns: ['id', 'staff_id', 'service_id', 'starts_at', 'ends_at', 'time_zone'],
      targets: (row) => bookingCacheMapping.slot(bookedSlot(bookingOfRow(row))),
    }),
  ],
})

type BookingRow = CapturedRow<'id' | 'staff_id' | 'service_id' | 'starts_at' | 'ends_at' | 'time_zone'>

function bookingOfRow(row: BookingRow) {
  return {
    id: String(row.id),
    staffId: String(row.staff_id),
    serviceId: String(row.service_id),
    slot: { start: isoInstant(String(row.starts_at)), end: isoInstant(String(row.ends_at)) },
    timeZone: String(row.time_zone),
  }
}

/**
 * A `timestamptz` in PostgreSQL's text form (`2026-12-07 09:00:00+01`, in the writing session's zone) as an ISO
 * 8601 instant, which is what the mapping parses.
 */
export function isoInstant(text: string): string {
  const match = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}(?:\.\d+)?)([+-]\d{2})(?::?(\d{2}))?$/.exec(text)
  if (match === null) return text
  const [, date, time, hours, minutes] = match
  return `${date}T${time}${hours}:${minutes ?? '00'}`
}
