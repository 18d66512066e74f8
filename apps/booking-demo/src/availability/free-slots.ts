/** A half-open span of time `[start, end)`. */
export interface Interval {
  start: Date
  end: Date
}

export interface FreeSlotsInput {
  /** Working time, already turned into instants (the staff member's time zone applied). */
  windows: Interval[]
  /** Confirmed bookings and external busy blocks; they may overlap each other and the windows' edges. */
  busy: Interval[]
  /** The service's duration: every slot is this long. */
  slotMinutes: number
}

/**
 * The bookable slots: each window cut into back-to-back slots of the service's length from the window's
 * start, keeping those that end inside the window and overlap nothing busy. Slots sit on a fixed grid
 * rather than starting wherever a busy block ends, so the offered times are stable as bookings come and go.
 */
export function freeSlots({ windows, busy, slotMinutes }: FreeSlotsInput): Interval[] {
  const slotMs = slotMinutes * 60_000
  const slots: Interval[] = []
  const byStart = [...windows].sort((a, b) => a.start.getTime() - b.start.getTime())
  for (const window of byStart) {
    for (let start = window.start.getTime(); start + slotMs <= window.end.getTime(); start += slotMs) {
      const end = start + slotMs
      const overlapsBusy = busy.some((block) => block.start.getTime() < end && start < block.end.getTime())
      if (!overlapsBusy) slots.push({ start: new Date(start), end: new Date(end) })
    }
  }
  return slots
}
