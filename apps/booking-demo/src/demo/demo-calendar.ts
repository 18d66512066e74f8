import { type RadicaleServer, startRadicale } from '@cachesaga/testkit'

/** Where the demo's staff calendars live: `CALDAV_URL`, or a private Radicale started for the run. */
export interface DemoCalendarServer {
  /** The calendar home, credentials included (see `CalDavCalendarProviderOptions.url`). */
  url: string
  /** True when the demo started the server (and stops it). */
  owned: boolean
  stop(): Promise<void>
}

/** Takes `CALDAV_URL` when set, else starts Radicale from PATH; with neither, says how to get one. */
export async function startDemoCalendar(env: NodeJS.ProcessEnv): Promise<DemoCalendarServer> {
  if (env.CALDAV_URL) return { url: env.CALDAV_URL, owned: false, stop: async () => {} }
  let radicale: RadicaleServer
  try {
    radicale = await startRadicale()
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'TESTKIT_ERR_BINARY_MISSING') throw error
    throw new Error(
      'CALDAV_URL is not set and radicale is not on PATH, so the demo has no calendar server.\n' +
        'Fix: install Radicale (Debian/Ubuntu: apt-get install radicale, or pip install radicale),\n' +
        'or point the demo at a CalDAV calendar home: CALDAV_URL=https://user:password@host/dav/calendars/user/ pnpm demo',
      { cause: error },
    )
  }
  return { url: calendarHome(radicale), owned: true, stop: () => radicale.stop() }
}

/** A user's calendar home on a Radicale (any password logs in; one is set so logs show it redacted). */
export function calendarHome(radicale: RadicaleServer, user = 'demo'): string {
  const url = new URL(`${user}/`, radicale.url)
  url.username = user
  url.password = 'not-a-secret'
  return url.href
}
