import { randomUUID } from 'node:crypto'
import { Queue } from 'bullmq'

/** A `booking.created` event of @cachesaga/queue's catalog, with a fresh event id. */
export function bookingCreated(n: number) {
  return {
    type: 'booking.created' as const,
    version: 2 as const,
    eventId: randomUUID(),
    occurredAt: new Date().toISOString(),
    tenantId: 'clinic-1',
    payload: {
      bookingId: `appointment-${n}`,
      staffId: 'doctor-1',
      serviceId: 'checkup',
      slot: { start: '2026-03-02T09:00:00.000Z', end: '2026-03-02T09:30:00.000Z' },
    },
  }
}

/** How many jobs of the `booking` queue carry each event id, in every state a job can be in. */
export async function jobsPerEventId(redisUrl: string, prefix: string): Promise<Map<string, number>> {
  const queue = new Queue('booking', { connection: { url: redisUrl }, prefix })
  try {
    const jobs = await queue.getJobs(['waiting', 'prioritized', 'delayed', 'active', 'completed', 'failed'])
    const counts = new Map<string, number>()
    for (const job of jobs) {
      const eventId = (job.data as { eventId: string }).eventId
      counts.set(eventId, (counts.get(eventId) ?? 0) + 1)
    }
    return counts
  } finally {
    await queue.close()
  }
}
