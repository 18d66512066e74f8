import type pg from 'pg'
import { OtherCalendarApp } from '../calendar/caldav/other-calendar-app.js'
import { wallTimeOf } from '../calendar/ical/wall-time.js'
import { demoIds } from '../seed/seed-demo-data.js'
import { type ApiClient, type AvailabilityAnswer, tokenHeader, waitFor } from './api-client.js'

/** One narrated step: what it did, and whether the system behaved as expected. */
export interface StepReport {
  title: string
  ok: boolean
  lines: string[]
}

interface CacheFigures {
  l1Hits: number
  l2Hits: number
  loaderCalls: number
  busPublished: number
}

const ada = demoIds.staff.ada
const treatment = demoIds.services.treatment
/** How long an asynchronous path (relay, queue, worker, NOTIFY) may take before the step fails. */
const ASYNC_DEADLINE_MS = 20_000

/**
 * The narrated tour: reads that hit the cache, a booking through its saga, a refused double booking, a
 * cancellation and a reschedule through theirs, an external calendar change and an admin's SQL edit, each
 * followed by what it did to the cache. The first API answers; with more than one (`--cluster`), every other
 * instance is asked too, and each step says how long it took to agree. `print` receives each step as it
 * finishes. `caldavUrl` is the calendar home the staff calendars live on, where another app writes Ada's
 * appointment. The clients hold the stack's credentials: the scenario reads the cache figures as the operator,
 * changes bookings with the management tokens their bookings answered, and signs its webhook as the calendar
 * provider; it also shows each of those refused without.
 */
export async function runScenario(
  apis: readonly ApiClient[],
  pool: pg.Pool,
  caldavUrl: string,
  print: (report: StepReport) => void,
): Promise<StepReport[]> {
  const [api, ...others] = apis
  if (api === undefined) throw new Error('runScenario needs at least one API')
  const date = mondayAhead(0)
  const read = () => api.availability(ada, treatment, date)
  /** Waits until every other instance agrees (`agrees` on its answer) and says how long each took. */
  const othersAgree = async (lines: string[], agrees: (answer: AvailabilityAnswer) => boolean) => {
    for (const [index, other] of others.entries()) {
      const tookMs = await waitFor(
        async () => agrees(await other.availability(ada, treatment, date)),
        ASYNC_DEADLINE_MS,
      )
      lines.push(`api-${index + 2} agrees after ${tookMs.toFixed(1)} ms (bus invalidation)`)
    }
  }
  const reports: StepReport[] = []
  let figures = await cacheFigures(api)
  const step = async (title: string, body: (lines: string[]) => Promise<boolean>) => {
    const lines: string[] = []
    let ok: boolean
    try {
      ok = await body(lines)
    } catch (error) {
      lines.push(`error: ${(error as Error).message}`)
      ok = false
    }
    const now = await cacheFigures(api)
    lines.push(
      `cache: L1 hits +${now.l1Hits - figures.l1Hits}, L2 hits +${now.l2Hits - figures.l2Hits}, ` +
        `database loads +${now.loaderCalls - figures.loaderCalls}, invalidations broadcast +${now.busPublished - figures.busPublished}`,
    )
    figures = now
    const report = { title, ok, lines }
    reports.push(report)
    print(report)
  }

  let slots: AvailabilityAnswer['slots'] = []
  await step(`Two reads of Ada's availability on ${date}`, async (lines) => {
    const first = await read()
    const second = await read()
    slots = first.slots
    lines.push(`first read: ${first.slots.length} free slots, served by ${first.cache.tier}`)
    lines.push(
      `second read: served by ${second.cache.tier}, same fill (generation ${second.cache.generation})`,
    )
    return (
      second.cache.tier === 'l1' && second.cache.generation === first.cache.generation && slots.length >= 5
    )
  })
  const [slotA, slotB, slotC, slotD] = slots
  const last = slots.at(-1)
  if (!slotA || !slotB || !slotC || !slotD || !last) return reports

  let booked: BookingAnswer | undefined
  await step(
    `Book ${slotA.startsAt} (saga: hold, commit, invalidate, calendar write, notify, release)`,
    async (lines) => {
      // Every instance holds the day before the booking.
      await Promise.all(others.map((other) => other.availability(ada, treatment, date)))
      const answer = await book(api, slotA.startsAt, 'pat@example.com')
      booked = answer.body
      lines.push(
        `POST /bookings -> ${answer.status}, saga ${answer.body.saga.state}: ${answer.body.saga.steps.join(', ')}`,
      )
      lines.push("the answer carries the booking's management token (only its SHA-256 is stored)")
      const after = await read()
      lines.push(
        `availability now served by ${after.cache.tier}: ${after.slots.length} free, ${slotA.startsAt} gone`,
      )
      await othersAgree(lines, (other) => !has(other, slotA.startsAt))
      return answer.status === 201 && !has(after, slotA.startsAt) && after.cache.tier === 'database'
    },
  )

  await step(`Book ${slotA.startsAt} again for someone else`, async (lines) => {
    const answer = await book(api, slotA.startsAt, 'sam@example.com')
    lines.push(
      `POST /bookings -> ${answer.status} ${answer.body.error?.code}, saga ${answer.body.saga.state}`,
    )
    return (
      answer.status === 409 && answer.body.saga.state === 'compensated' && !has(await read(), slotA.startsAt)
    )
  })

  await step('Cancel the booking (saga: cancel, invalidate, calendar delete, notify)', async (lines) => {
    const path = `/bookings/${booked?.booking?.id}/cancel`
    const refused = await api.post<SagaAnswer>(path, {})
    lines.push(`POST /bookings/:id/cancel without the token -> ${refused.status} ${refused.body.error?.code}`)
    const answer = await api.post<SagaAnswer>(path, {}, tokenHeader(booked?.managementToken ?? ''))
    const after = await read()
    lines.push(
      `POST /bookings/:id/cancel with it -> ${answer.status}, saga ${answer.body.saga.state}: ${answer.body.saga.steps.join(', ')}`,
    )
    lines.push(`${slotA.startsAt} free again (${after.cache.tier})`)
    await othersAgree(lines, (other) => has(other, slotA.startsAt))
    return (
      refused.status === 403 &&
      answer.status === 200 &&
      answer.body.saga.state === 'completed' &&
      has(after, slotA.startsAt)
    )
  })

  await step(`Book ${slotB.startsAt}, then reschedule it to ${slotC.startsAt}`, async (lines) => {
    const made = await book(api, slotB.startsAt, 'kim@example.com')
    const moved = await api.post<SagaAnswer>(
      `/bookings/${made.body.booking?.id}/reschedule`,
      { startsAt: slotC.startsAt },
      tokenHeader(made.body.managementToken ?? ''),
    )
    const after = await read()
    lines.push(
      `POST /bookings -> ${made.status}; POST /bookings/:id/reschedule with its token -> ${moved.status}`,
    )
    lines.push(`reschedule saga ${moved.body.saga.state}: ${moved.body.saga.steps.join(', ')}`)
    lines.push(`${slotB.startsAt} free again, ${slotC.startsAt} taken (${after.cache.tier})`)
    await othersAgree(lines, (other) => has(other, slotB.startsAt) && !has(other, slotC.startsAt))
    return (
      made.status === 201 && moved.status === 200 && has(after, slotB.startsAt) && !has(after, slotC.startsAt)
    )
  })

  await step(`Ada's external calendar gets an appointment over ${slotD.startsAt}`, async (lines) => {
    // Another app writes it, in Ada's own zone, the way her phone would: CalDAV PUT of an iCalendar event.
    const appointment = {
      name: 'demo-dentist',
      start: wallTime(slotD.startsAt, 'Europe/Berlin'),
      end: wallTime(slotD.endsAt, 'Europe/Berlin'),
      timeZone: 'Europe/Berlin',
    }
    await new OtherCalendarApp(caldavUrl).put(demoIds.calendars.ada, appointment)
    lines.push(
      `another app PUT demo-dentist.ics (DTSTART;TZID=Europe/Berlin:${appointment.start}) into Ada's CalDAV calendar`,
    )
    const unsigned = await api.post<SagaAnswer>('/webhooks/calendar', { calendarId: demoIds.calendars.ada })
    lines.push(`POST /webhooks/calendar unsigned -> ${unsigned.status} ${unsigned.body.error?.code}`)
    const webhook = await api.webhook('/webhooks/calendar', { calendarId: demoIds.calendars.ada })
    lines.push(
      `POST /webhooks/calendar signed as the provider signs it -> ${webhook.status}: external-sync job queued`,
    )
    const tookMs = await waitFor(async () => !has(await read(), slotD.startsAt), ASYNC_DEADLINE_MS)
    lines.push(
      `worker synced with the sync token (sync-collection REPORT) and invalidated the day: slot gone from GET /availability after ${tookMs.toFixed(0)} ms`,
    )
    return unsigned.status === 401 && webhook.status === 202
  })

  await step("An admin shortens Ada's Monday afternoon by an hour in SQL", async (lines) => {
    await pool.query(
      `UPDATE weekly_schedules SET ends_at = ends_at - interval '1 hour'
       WHERE staff_id = $1 AND weekday = 1 AND starts_at = '13:00'`,
      [ada],
    )
    lines.push('UPDATE weekly_schedules ... (@cachesaga/postgres: a trigger records the change and NOTIFYs)')
    const tookMs = await waitFor(async () => !has(await read(), last.startsAt), ASYNC_DEADLINE_MS)
    lines.push(
      `the API's change listener invalidated Ada's scope: ${last.startsAt} gone after ${tookMs.toFixed(0)} ms`,
    )
    await pool.query(
      `UPDATE weekly_schedules SET ends_at = ends_at + interval '1 hour'
       WHERE staff_id = $1 AND weekday = 1 AND starts_at = '13:00'`,
      [ada],
    )
    const backMs = await waitFor(async () => has(await read(), last.startsAt), ASYNC_DEADLINE_MS)
    lines.push(`edit undone: the slot is back after ${backMs.toFixed(0)} ms`)
    return true
  })
  return reports
}

interface SagaAnswer {
  saga: { state: string; steps: string[] }
  error?: { code: string }
}

interface BookingAnswer extends SagaAnswer {
  booking?: { id: string }
  /** What cancelling or moving the booking needs; given only in this answer. */
  managementToken?: string
}

function book(api: ApiClient, startsAt: string, customerEmail: string) {
  return api.post<BookingAnswer>('/bookings', { staffId: ada, serviceId: treatment, customerEmail, startsAt })
}

function has(availability: AvailabilityAnswer, startsAt: string): boolean {
  return availability.slots.some((slot) => slot.startsAt === startsAt)
}

async function cacheFigures(api: ApiClient): Promise<CacheFigures> {
  const { body } = await api.admin<{
    cache: {
      l1: { hits: number }
      l2: { hits: number }
      loader: { calls: number }
      bus: { published: number }
    }
  }>('/admin/cache/health')
  return {
    l1Hits: body.cache.l1.hits,
    l2Hits: body.cache.l2.hits,
    loaderCalls: body.cache.loader.calls,
    busPublished: body.cache.bus.published,
  }
}

/**
 * A Monday in the future (UTC), `weeksAhead` weeks after the next one: a working day for both staff members.
 * Tests pick different weeks so their bookings never meet.
 */
export function mondayAhead(weeksAhead: number): string {
  const day = new Date()
  day.setUTCDate(day.getUTCDate() + ((8 - day.getUTCDay()) % 7 || 7) + 7 * weeksAhead)
  return day.toISOString().slice(0, 10)
}

/** The local wall time (`2026-01-12T09:00`) of an instant in a zone, as a person's calendar app shows it. */
function wallTime(instant: string, timeZone: string): string {
  const { year, month, day, hour, minute } = wallTimeOf(new Date(instant), timeZone)
  const two = (n: number) => String(n).padStart(2, '0')
  return `${year}-${two(month)}-${two(day)}T${two(hour)}:${two(minute)}`
}
