import { z } from 'zod'

/** Bumped whenever the message shape changes; a receiver that cannot read a message drops its L1. */
export const WIRE_VERSION = 1

/** What one instance tells the others to drop from their L1. */
export interface L1Invalidation {
  keys?: string[]
  /** Dependency suffixes (`t:<tag>`, `s:<path>`, `S:<path>`, `f:<name>`). */
  deps?: string[]
  /** User globs, as given to `invalidate`. */
  patterns?: string[]
  /** Drop everything (emergency clear). */
  clear?: boolean
}

export interface BusMessage extends L1Invalidation {
  v: typeof WIRE_VERSION
  /** Sender's instance id: a receiver ignores its own messages. */
  from: string
  /** Per-sender sequence number, from 1: a gap means a lost message. */
  seq: number
  /** Sender's clock when it published (ms since the epoch): the receiver's bus lag. Optional, so older senders still parse. */
  at?: number
}

const message = z.object({
  v: z.literal(WIRE_VERSION),
  from: z.string().min(1),
  seq: z.number().int().positive(),
  at: z.number().optional(),
  keys: z.array(z.string()).optional(),
  deps: z.array(z.string()).optional(),
  patterns: z.array(z.string()).optional(),
  clear: z.boolean().optional(),
})

export function encode(msg: BusMessage): string {
  return JSON.stringify(msg)
}

/** The message, or undefined when it is not one this version can read. */
export function decode(raw: string): BusMessage | undefined {
  try {
    const parsed = message.safeParse(JSON.parse(raw))
    return parsed.success ? parsed.data : undefined
  } catch {
    return undefined
  }
}
