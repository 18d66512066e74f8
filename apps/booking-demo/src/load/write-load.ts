import { randomUUID } from 'node:crypto'
import { type ApiClient, tokenHeader } from '../demo/api-client.js'
import { epochNow, type FreshnessObservation, observeFreshness, type SlotChange } from './freshness.js'

export type WriteKind = 'book' | 'cancel' | 'reschedule'

/** One write as the client saw it. */
export interface WriteRecord {
  kind: WriteKind
  /** From sending the request to its answer. */
  ms: number
  status: number
  freshness: FreshnessObservation | undefined
}

export interface WriteLoadOptions {
  /** The two API instances; writes alternate between them, and each is the other's observer. */
  apis: readonly [ApiClient, ApiClient]
  /** One writer per staff member, so writes never contend for one slot and every refusal is a failure. */
  staff: readonly string[]
  serviceId: string
  /** The local days the writers book on. */
  dates: readonly string[]
  /** Writes per second over all writers, as steady as the answers allow. */
  ratePerSecond: number
  durationMs: number
}

interface Held {
  id: string
  /** The management token its booking answered; cancelling or moving it presents it. */
  token: string
  date: string
  start: string
}

/**
 * Bookings, cancellations and reschedules at a steady rate: each writer owns one staff member, books their
 * free slots in order, and now and then cancels or moves one of its bookings (six in ten writes book, two
 * cancel, two move). Each write's effect is watched on both instances (`observeFreshness`).
 */
export async function runWriteLoad(options: WriteLoadOptions): Promise<WriteRecord[]> {
  const records: WriteRecord[] = []
  const deadline = performance.now() + options.durationMs
  const periodMs = (options.staff.length * 1_000) / options.ratePerSecond
  await Promise.all(
    options.staff.map(async (staffId, writer) => {
      const free = await freeSlots(options, staffId)
      const held: Held[] = []
      let turn = writer
      let next = performance.now() + Math.random() * periodMs
      while (performance.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - performance.now())))
        next += periodMs
        if (performance.now() >= deadline) break
        const committing = options.apis[turn % 2]!
        const other = options.apis[(turn + 1) % 2]!
        turn++
        const roll = Math.random()
        const kind: WriteKind = held.length < 2 || roll < 0.6 ? 'book' : roll < 0.8 ? 'cancel' : 'reschedule'
        if (kind !== 'cancel' && free.length === 0) break
        const record = await write(kind, {
          committing,
          other,
          staffId,
          serviceId: options.serviceId,
          free,
          held,
        })
        records.push(record)
      }
    }),
  )
  return records
}

async function freeSlots(options: WriteLoadOptions, staffId: string): Promise<Held[]> {
  const slots: Held[] = []
  for (const date of options.dates) {
    const day = await options.apis[0].availability(staffId, options.serviceId, date)
    for (const slot of day.slots) slots.push({ id: '', token: '', date, start: slot.startsAt })
  }
  return slots
}

interface WriterState {
  committing: ApiClient
  other: ApiClient
  staffId: string
  serviceId: string
  free: Held[]
  held: Held[]
}

async function write(kind: WriteKind, state: WriterState): Promise<WriteRecord> {
  const { committing, other, staffId, serviceId } = state
  const change = (slot: Held, free: boolean): SlotChange => ({
    staffId,
    serviceId,
    date: slot.date,
    start: slot.start,
    free,
  })
  const started = performance.now()
  let status: number
  let changes: SlotChange[]
  if (kind === 'book') {
    const slot = { ...state.free.shift()!, id: randomUUID() }
    const answer = await committing.post<{ managementToken?: string }>('/bookings', {
      bookingId: slot.id,
      staffId,
      serviceId,
      customerEmail: 'load@example.com',
      startsAt: slot.start,
    })
    status = answer.status
    if (status === 201) state.held.push({ ...slot, token: answer.body.managementToken ?? '' })
    changes = [change(slot, false)]
  } else if (kind === 'cancel') {
    const slot = state.held.splice(Math.floor(Math.random() * state.held.length), 1)[0]!
    status = (await committing.post(`/bookings/${slot.id}/cancel`, {}, tokenHeader(slot.token))).status
    changes = [change(slot, true)]
  } else {
    const from = state.held.splice(Math.floor(Math.random() * state.held.length), 1)[0]!
    const to = { ...state.free.shift()!, id: from.id, token: from.token }
    status = (
      await committing.post(
        `/bookings/${from.id}/reschedule`,
        { startsAt: to.start },
        tokenHeader(from.token),
      )
    ).status
    state.held.push(status === 200 ? to : from)
    changes = [change(from, true), change(to, false)]
  }
  const ms = performance.now() - started
  const answeredAt = epochNow()
  const ok = status === 200 || status === 201
  const freshness = ok ? await observeFreshness(committing, other, changes, answeredAt) : undefined
  return { kind, ms, status, freshness }
}
