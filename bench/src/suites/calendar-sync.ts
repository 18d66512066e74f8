import {
  CalDavCalendarProvider,
  demoIds,
  migrate,
  OtherCalendarApp,
  seedDemoData,
  syncCalendar,
} from '@cachesaga/booking-demo'
import { startPostgres, startRadicale } from '@cachesaga/testkit'
import pg from 'pg'
import { getBasicAuthHeaders, syncCollection } from 'tsdav'
import { median, table } from '../measure.js'

interface CalendarSyncOptions {
  /** Events in the calendar for the full sync. */
  events: number
  /** Changes between two incremental syncs. */
  changes: number
  rounds: number
}

interface Sample {
  ms: number
  requests: number
}

const calendar = demoIds.calendars.ada

/**
 * External-calendar sync against a real CalDAV server (a private Radicale) and PostgreSQL, as the demo's
 * worker runs it: a full sync of a calendar with `events` appointments (no token: one `sync-collection`
 * REPORT with the events' data, parsed with ical.js, all blocks replaced in one transaction), and an
 * incremental sync of `changes` changes with the stored token. The same REPORT through the provider
 * (iCalendar parsed into busy time) and through raw tsdav (XML only) show where the time goes: the rest
 * of a full sync is PostgreSQL. Each figure is the median of `rounds`.
 */
export async function runCalendarSyncBench(options: CalendarSyncOptions): Promise<string> {
  const radicale = await startRadicale()
  const postgres = await startPostgres()
  const database = await postgres.createDatabase('bench_calendar')
  const pool = new pg.Pool({ connectionString: database.url, max: 4 })
  try {
    await migrate(pool)
    await seedDemoData(pool)
    const home = new URL('bench/', radicale.url)
    home.username = 'bench'
    const provider = new CalDavCalendarProvider({ url: home.href, timeout: '30s' })
    const otherApp = new OtherCalendarApp(home.href)
    await provider.ensureCalendar(calendar)
    const names = Array.from({ length: options.events }, (_, i) => `appointment-${i}`)
    for (let i = 0; i < names.length; i += 5) {
      await Promise.all(
        names.slice(i, i + 5).map((name, j) => otherApp.put(calendar, appointment(name, i + j))),
      )
    }
    const measure = async (run: () => Promise<unknown>): Promise<Sample> => {
      const sent = provider.requestsSent
      const started = performance.now()
      await run()
      return { ms: performance.now() - started, requests: provider.requestsSent - sent }
    }
    const window = { from: new Date(), to: new Date(Date.now() + 365 * 86_400_000) }
    const raw: Sample[] = []
    const report: Sample[] = []
    const full: Sample[] = []
    const incremental: Sample[] = []
    const rawReport = () =>
      syncCollection({
        url: provider.calendarUrl(calendar),
        props: { 'd:getetag': {}, 'c:calendar-data': {} },
        syncLevel: 1,
        syncToken: '',
        headers: { depth: '0', ...getBasicAuthHeaders({ username: 'bench', password: '' }) },
      })
    for (let round = 0; round < options.rounds; round++) {
      const started = performance.now()
      await rawReport()
      raw.push({ ms: performance.now() - started, requests: 1 })
      report.push(
        await measure(() => provider.listChanges(calendar, null, { window, timeZone: 'Europe/Berlin' })),
      )
      await pool.query('TRUNCATE external_busy_blocks, external_calendar_sync_state')
      full.push(await measure(() => syncCalendar(pool, provider, calendar)))
      // Moves of existing appointments and new ones, as a day of edits in a busy calendar looks.
      for (let c = 0; c < options.changes; c++) {
        const index = (round * options.changes + c) * 7
        await otherApp.put(
          calendar,
          appointment(
            c % 2 === 0 ? `appointment-${index % options.events}` : `added-${round}-${c}`,
            index + 3,
          ),
        )
      }
      incremental.push(await measure(() => syncCalendar(pool, provider, calendar)))
    }
    const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM external_busy_blocks')
    const row = (what: string, samples: Sample[]) => [
      what,
      `${median(samples.map((s) => s.ms)).toFixed(1)} ms`,
      String(median(samples.map((s) => s.requests))),
    ]
    return [
      `A private Radicale ${await radicaleVersion()} and PostgreSQL on this machine; median of ${options.rounds} rounds. ` +
        `The calendar holds ${options.events.toLocaleString('en')} single appointments written by another CalDAV client ` +
        `(busy blocks after the last round: ${Number(rows[0]!.n).toLocaleString('en')}).`,
      table(
        ['sync', 'wall time', 'requests sent'],
        [
          row(`full sync, ${options.events.toLocaleString('en')} events (syncCalendar, no token)`, full),
          row(`incremental sync, ${options.changes} changes (syncCalendar, stored token)`, incremental),
          row('the full sync-collection REPORT, parsed into busy time (provider.listChanges)', report),
          row('the same REPORT through raw tsdav, XML parsed, no iCalendar parsing', raw),
        ],
      ),
    ].join('\n\n')
  } finally {
    await pool.end()
    await database.drop()
    await postgres.stop()
    await radicale.stop()
  }
}

/** The `index`-th appointment: half an hour on a weekday morning, spread over the coming months. */
function appointment(name: string, index: number) {
  const day = new Date(Date.now() + (1 + (index % 200)) * 86_400_000).toISOString().slice(0, 10)
  const hour = String(8 + (index % 9)).padStart(2, '0')
  return { name, start: `${day}T${hour}:00`, end: `${day}T${hour}:30`, timeZone: 'Europe/Berlin' }
}

async function radicaleVersion(): Promise<string> {
  const { execFileSync } = await import('node:child_process')
  return execFileSync('radicale', ['--version'], { encoding: 'utf8' }).trim()
}
