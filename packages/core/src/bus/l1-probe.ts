import { randomBytes } from 'node:crypto'
import { z } from 'zod'
import { WIRE_VERSION } from './wire-format.js'

/** A fresh L1 copy as an instance describes it: a hash of its JSON, and when it stops being fresh. */
export interface L1Copy {
  hash: string
  expiresAt: number
}

/** One instance's answer: per key, its fresh L1 copy, or null when it holds none. */
export interface L1Copies {
  instance: string
  copies: Record<string, L1Copy | null>
}

/** Answers a probe: the asked keys plus up to `sample` other keys of this instance's L1. */
export type L1Describer = (keys: readonly string[], sample: number) => Record<string, L1Copy | null>

const request = z.object({
  v: z.literal(WIRE_VERSION),
  kind: z.literal('probe'),
  id: z.string().min(1),
  from: z.string().min(1),
  keys: z.array(z.string()),
  sample: z.number().int().min(0),
})
const reply = z.object({
  v: z.literal(WIRE_VERSION),
  kind: z.literal('copies'),
  id: z.string().min(1),
  from: z.string().min(1),
  copies: z.record(z.string(), z.object({ hash: z.string(), expiresAt: z.number() }).nullable()),
})
const message = z.discriminatedUnion('kind', [request, reply])

interface Pending {
  expected: number
  replies: L1Copies[]
  done: () => void
}

/**
 * Asks live instances for hashes of their L1 copies, on a channel of its own so the invalidation
 * stream and its sequence numbers are untouched. PUBLISH answers how many subscribers got the
 * request, so the asker waits for exactly that many replies (minus itself) or the timeout.
 */
export class L1Probe {
  private readonly pending = new Map<string, Pending>()

  constructor(
    private readonly instanceId: string,
    private readonly publish: (payload: string) => Promise<number>,
    private readonly answer: L1Describer,
    private readonly failed: (operation: string, error: unknown) => void,
  ) {}

  /** The other instances' copies of `keys` (plus up to `sample` keys each holds), gathered within `timeoutMs`. */
  async ask(keys: readonly string[], sample: number, timeoutMs: number): Promise<L1Copies[]> {
    const id = randomBytes(8).toString('hex')
    const entry: Pending = { expected: Number.POSITIVE_INFINITY, replies: [], done: () => {} }
    const finished = new Promise<void>((resolve) => {
      entry.done = resolve
    })
    this.pending.set(id, entry)
    const timer = setTimeout(() => entry.done(), timeoutMs)
    try {
      const receivers = await this.publish(
        JSON.stringify({ v: WIRE_VERSION, kind: 'probe', id, from: this.instanceId, keys, sample }),
      )
      entry.expected = receivers - 1
      if (entry.replies.length >= entry.expected) entry.done()
      await finished
      return entry.replies
    } finally {
      clearTimeout(timer)
      this.pending.delete(id)
    }
  }

  receive(raw: string): void {
    let parsed: z.infer<typeof message>
    try {
      parsed = message.parse(JSON.parse(raw))
    } catch {
      return
    }
    if (parsed.from === this.instanceId) return
    if (parsed.kind === 'probe') {
      const payload = { v: WIRE_VERSION, kind: 'copies', id: parsed.id, from: this.instanceId }
      this.publish(JSON.stringify({ ...payload, copies: this.answer(parsed.keys, parsed.sample) })).catch(
        (error: unknown) => this.failed('bus.probe', error),
      )
      return
    }
    const entry = this.pending.get(parsed.id)
    if (entry === undefined) return
    entry.replies.push({ instance: parsed.from, copies: parsed.copies })
    if (entry.replies.length >= entry.expected) entry.done()
  }
}
