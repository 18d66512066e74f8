/** A local date and time with no zone attached, as written in an iCalendar `DTSTART` without `Z`. */
export interface WallTime {
  year: number
  /** 1-12 */
  month: number
  day: number
  hour: number
  minute: number
  second: number
}

/**
 * The instant a wall-clock time denotes in an IANA zone, from the runtime's own zone database (`Intl`).
 * Two passes settle the offset around a daylight-saving change; a time that does not exist (skipped by
 * the change) lands after the gap, as calendar clients do.
 */
export function wallTimeToInstant(wall: WallTime, timeZone: string): Date {
  const asUtc = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second)
  const firstGuess = asUtc - offsetAt(asUtc, timeZone)
  return new Date(asUtc - offsetAt(firstGuess, timeZone))
}

/** The wall-clock time of an instant in an IANA zone. Throws `RangeError` for a zone `Intl` does not know. */
export function wallTimeOf(instant: Date | number, timeZone: string): WallTime {
  const parts = Object.fromEntries(
    formatterFor(timeZone)
      .formatToParts(new Date(instant))
      .map((part) => [part.type, Number(part.value)]),
  )
  return {
    year: parts.year!,
    month: parts.month!,
    day: parts.day!,
    hour: parts.hour!,
    minute: parts.minute!,
    second: parts.second!,
  }
}

/** The zone's offset from UTC at `instant`, in milliseconds. */
function offsetAt(instant: number, timeZone: string): number {
  const wall = wallTimeOf(instant, timeZone)
  const wallAsUtc = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second)
  return wallAsUtc - Math.floor(instant / 1000) * 1000
}

/** True for a zone name the runtime's zone database knows (`Europe/Berlin`, `UTC`), false otherwise. */
export function isKnownTimeZone(timeZone: string): boolean {
  try {
    formatterFor(timeZone)
    return true
  } catch {
    return false
  }
}

/** Making a formatter costs far more than using one, and a calendar has few zones: one per zone, kept. */
const formatters = new Map<string, Intl.DateTimeFormat>()

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone)
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    })
    formatters.set(timeZone, formatter)
  }
  return formatter
}
