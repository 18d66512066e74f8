import { randomUUID } from 'node:crypto'
import { bookingCatalog, startWorkers } from '@cachesaga/queue'
import { Queue, QueueEvents, Worker } from 'bullmq'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { useCli } from '../test-support/cli-runs.js'

const env = useCli()

/**
 * Real dead letters: malformed events sent straight to the booking queue, as a broken producer
 * would, fail validation in a real worker and land in the failed set without retries.
 */
async function deadLetters(count: number) {
  const prefix = `{t${randomUUID().slice(0, 8)}}`
  const connection = new Redis(env.url, { maxRetriesPerRequest: null })
  const queue = new Queue('booking', { connection, prefix })
  const events = new QueueEvents('booking', { connection: { url: env.url }, prefix })
  await events.waitUntilReady()
  const workers = await startWorkers({
    redis: env.url,
    prefix,
    catalog: bookingCatalog,
    queues: ['booking'],
    events: { 'booking.created': () => {} },
    log: () => {},
  })
  const jobIds: string[] = []
  for (let i = 0; i < count; i++) {
    const job = await queue.add('booking.created', {
      type: 'booking.created',
      version: 2,
      eventId: `bad-${i}`,
    })
    await expect(job.waitUntilFinished(events)).rejects.toThrow(/eventId/)
    jobIds.push(job.id!)
  }
  await workers.close({ timeout: '5s' })
  await events.close()
  // An app's own queue, which no built-in list names: found under the prefix all the same.
  const staff = new Queue('staff', { connection, prefix })
  const staffEvents = new QueueEvents('staff', { connection: { url: env.url }, prefix })
  await staffEvents.waitUntilReady()
  const staffWorker = new Worker(
    'staff',
    async () => {
      throw new Error('schedule service down')
    },
    { connection: new Redis(env.url, { maxRetriesPerRequest: null }), prefix },
  )
  const failing = await staff.add('staff.schedule.changed', { staffId: 's-1' }, { attempts: 1 })
  await expect(failing.waitUntilFinished(staffEvents)).rejects.toThrow(/schedule service down/)
  await staffWorker.close()
  await staffEvents.close()
  await staff.close()
  return {
    prefix,
    jobIds,
    state: (jobId: string) => queue.getJobState(jobId),
    close: async () => {
      await queue.close()
      connection.disconnect()
    },
  }
}

describe('cachesaga dlq', () => {
  let letters: Awaited<ReturnType<typeof deadLetters>>
  beforeAll(async () => {
    letters = await deadLetters(4)
  })
  afterAll(() => letters.close())
  const dlq = (...args: string[]) => env.cli(['dlq', ...args, '--prefix', letters.prefix])

  it('lists dead letters with their reasons, of every queue found under the prefix by default', async () => {
    const run = await dlq('list')
    expect(run.exitCode).toBe(0)
    const lines = run.stdout.trimEnd().split('\n')
    expect(lines[0]).toBe('booking: 4 dead letters')
    expect(
      lines
        .slice(1, 5)
        .every((line) => /^ {2}\d+ {2}booking\.created {2}attempts 1 {2}failed \S+Z {2}.*eventId/.test(line)),
    ).toBe(true)
    expect(lines[5]).toBe('staff: 1 dead letter')
    expect(lines[6]).toMatch(
      /^ {2}\d+ {2}staff\.schedule\.changed {2}attempts 1 {2}failed \S+Z {2}schedule service down$/,
    )
    expect(lines).toHaveLength(7)
  })

  it('lists one queue as JSON, newest first, up to --limit', async () => {
    const run = await dlq('list', 'booking', '--limit', '2', '--json')
    const { queues } = JSON.parse(run.stdout)
    expect(queues).toHaveLength(1)
    expect(queues[0].queue).toBe('booking')
    expect(queues[0].deadLetters).toEqual(
      [letters.jobIds[3], letters.jobIds[2]].map((jobId) => ({
        jobId,
        name: 'booking.created',
        data: expect.objectContaining({ type: 'booking.created' }),
        failedReason: expect.stringContaining('eventId'),
        attemptsMade: 1,
        failedAt: expect.any(Number),
      })),
    )
  })

  it('names the argument or flag that is wrong', async () => {
    expect(await dlq('list', 'bookings')).toMatchObject({
      exitCode: 2,
      stderr: `cachesaga: <queue>: no queue "bookings" under prefix ${letters.prefix}; its queues: booking, staff\n`,
    })
    expect(await dlq('retry', 'bookings', '--all')).toMatchObject({ exitCode: 2 })
    expect(await dlq('list', '--limit', 'many')).toMatchObject({
      exitCode: 2,
      stderr: expect.stringMatching(/^cachesaga: --limit: /),
    })
    expect(await dlq('purge', 'booking', '--token', 't', '--request-token')).toMatchObject({
      exitCode: 2,
      stderr: 'cachesaga: --token: give either --request-token or --token, not both\n',
    })
    expect(await dlq('retry', 'booking')).toMatchObject({
      exitCode: 2,
      stderr: 'cachesaga: <jobIds>: give job ids or --all (one of them)\n',
    })
  })

  it('retries one dead letter back to waiting, and exits 1 for a job that is not dead', async () => {
    const [first] = letters.jobIds
    const run = await dlq('retry', 'booking', first!)
    expect(run).toEqual({ exitCode: 0, stdout: 'booking: sent 1 job back to the workers\n', stderr: '' })
    expect(await letters.state(first!)).toBe('waiting')
    const again = await dlq('retry', 'booking', first!)
    expect(again).toMatchObject({
      exitCode: 1,
      stderr: `cachesaga: no failed job ${first} on queue booking\n`,
    })
  })

  it('purges only with a token: refused without a terminal, then with a requested token, once', async () => {
    const refused = await dlq('purge', 'booking')
    expect(refused).toMatchObject({
      exitCode: 2,
      stderr: expect.stringContaining(
        'run `cachesaga dlq purge booking --request-token`, then pass the token',
      ),
    })
    const requested = JSON.parse((await dlq('purge', 'booking', '--request-token', '--json')).stdout)
    expect(requested).toEqual({ queue: 'booking', token: expect.any(String), count: 3, expiresInMs: 60_000 })
    const purged = await dlq('purge', 'booking', '--token', requested.token)
    expect(purged).toEqual({ exitCode: 0, stdout: 'booking: purged 3 dead letters\n', stderr: '' })
    expect(await letters.state(letters.jobIds[1]!)).toBe('unknown')
    const reused = await dlq('purge', 'booking', '--token', requested.token)
    expect(reused).toMatchObject({ exitCode: 2, stderr: expect.stringContaining('unknown, used or expired') })
  })

  it('on a terminal asks for the token and purges when it is typed back', async () => {
    const fresh = await deadLetters(1)
    try {
      const run = await env.cli(['dlq', 'purge', 'booking', '--prefix', fresh.prefix], {
        answer: (question) => /Type (\S+) to confirm/.exec(question)?.[1] ?? '',
      })
      expect(run.stderr).toMatch(/^This deletes 1 dead letter of booking\.\nType \S+ to confirm: $/)
      expect(run).toMatchObject({ exitCode: 0, stdout: 'booking: purged 1 dead letter\n' })
      expect(await fresh.state(fresh.jobIds[0]!)).toBe('unknown')
    } finally {
      await fresh.close()
    }
  })

  it('retries every dead letter with --all', async () => {
    const fresh = await deadLetters(2)
    try {
      const run = await env.cli(['dlq', 'retry', 'booking', '--all', '--prefix', fresh.prefix, '--json'])
      expect(JSON.parse(run.stdout)).toEqual({ queue: 'booking', retried: 'all' })
      expect(await Promise.all(fresh.jobIds.map(fresh.state))).toEqual(['waiting', 'waiting'])
    } finally {
      await fresh.close()
    }
  })
})
