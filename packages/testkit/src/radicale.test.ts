import { existsSync } from 'node:fs'
import { dirname } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RadicaleServer, startRadicale } from './index.js'

const xml = { 'content-type': 'text/xml; charset=utf-8' }
const syncReport = (token: string) =>
  `<?xml version="1.0"?><d:sync-collection xmlns:d="DAV:"><d:sync-token>${token}</d:sync-token>` +
  '<d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>'
const event = (uid: string) =>
  [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//cachesaga//testkit//EN',
    'BEGIN:VEVENT',
    `UID:${uid}`,
    'DTSTAMP:20260101T000000Z',
    'DTSTART:20260112T090000Z',
    'DTEND:20260112T100000Z',
    'END:VEVENT',
    'END:VCALENDAR',
    '',
  ].join('\r\n')

describe('startRadicale', () => {
  let server: RadicaleServer
  let calendar: string
  const as = { authorization: `Basic ${Buffer.from('tester:any').toString('base64')}` }

  beforeAll(async () => {
    server = await startRadicale()
    calendar = `${server.url}tester/work/`
  })
  afterAll(() => server?.stop())

  async function syncToken(token = ''): Promise<{ status: number; token: string | undefined; body: string }> {
    const response = await fetch(calendar, {
      method: 'REPORT',
      headers: { ...xml, ...as },
      body: syncReport(token),
    })
    const body = await response.text()
    return { status: response.status, token: body.match(/<sync-token>([^<]+)</)?.[1], body }
  }

  it('serves CalDAV on a private port: a calendar, an event and a sync token', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/)
    expect((await fetch(calendar, { method: 'MKCALENDAR', headers: as })).status).toBe(201)
    const put = await fetch(`${calendar}one.ics`, {
      method: 'PUT',
      headers: { 'content-type': 'text/calendar', ...as },
      body: event('one'),
    })
    expect(put.status).toBe(201)
    const first = await syncToken()
    expect(first).toMatchObject({
      status: 207,
      token: expect.stringMatching(/^http:\/\/radicale\.org\/ns\/sync\//),
    })
    expect(first.body).toContain('one.ics')
  })

  it('keeps the collections across kill and restart on the same port', async () => {
    const port = server.port
    await server.kill()
    await expect(fetch(calendar, { method: 'PROPFIND', headers: as })).rejects.toThrow()
    await server.restart()
    expect(server.port).toBe(port)
    expect((await syncToken()).body).toContain('one.ics')
  })

  it('refuses an old token with valid-sync-token once it forgot its tokens and the calendar changed', async () => {
    const { token } = await syncToken()
    await fetch(`${calendar}two.ics`, {
      method: 'PUT',
      headers: { 'content-type': 'text/calendar', ...as },
      body: event('two'),
    })
    server.forgetSyncTokens()
    const refused = await syncToken(token)
    expect(refused.status).toBe(403)
    expect(refused.body).toContain('valid-sync-token')
  })

  it('removes its folder on stop and may be stopped twice', async () => {
    const other = await startRadicale()
    const folder = dirname(other.storageFolder)
    await fetch(`${other.url}someone/`, { method: 'PROPFIND', headers: as })
    expect(existsSync(other.storageFolder)).toBe(true)
    await other.stop()
    await other.stop()
    expect(existsSync(folder)).toBe(false)
    await expect(fetch(other.url, { signal: AbortSignal.timeout(1_000) })).rejects.toThrow()
  })

  it('refuses an unknown option, naming it', async () => {
    await expect(startRadicale({ port: 0 })).rejects.toMatchObject({ code: 'TESTKIT_ERR_INVALID_INPUT' })
  })
})
