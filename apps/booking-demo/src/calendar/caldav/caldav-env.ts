import { durationSchema } from '@cachesaga/common'
import { z } from 'zod'
import { parseInput } from '../../parse-input.js'
import { CalDavCalendarProvider } from './caldav-calendar-provider.js'

const calendarEnvSchema = z.object({
  /** The CalDAV calendar home the staff calendars live under (see `CalDavCalendarProviderOptions.url`). */
  CALDAV_URL: z.url({ protocol: /^https?$/ }),
  /** Deadline of each CalDAV request. */
  CALDAV_TIMEOUT: durationSchema.default(5_000),
})

/** The CalDAV provider the API and the worker use, from `CALDAV_URL` (and `CALDAV_TIMEOUT`). */
export function calendarProviderFromEnv(env: NodeJS.ProcessEnv): CalDavCalendarProvider {
  const { CALDAV_URL, CALDAV_TIMEOUT } = parseInput(calendarEnvSchema, env, 'env')
  return new CalDavCalendarProvider({ url: CALDAV_URL, timeout: CALDAV_TIMEOUT })
}
