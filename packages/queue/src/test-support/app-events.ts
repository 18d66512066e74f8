import { randomUUID } from 'node:crypto'
import { z } from 'zod'
import { bookingEvents, defineCatalog, defineEvent } from '../index.js'

// An application's own event, defined by the tests the way an app would: a treatment room was cleaned. Version 1
// named the room; version 2 also says who cleaned it, and reads a version 1 event as cleaned by "unknown".
const roomCleanedV1 = defineEvent('room.cleaned').version(1, z.object({ roomId: z.string().min(1) }))

export const roomCleaned = roomCleanedV1
  .version(2, z.object({ roomId: z.string().min(1), cleanedBy: z.string().min(1) }), (v1) => ({
    ...v1,
    cleanedBy: 'unknown',
  }))
  .options({ queue: 'rooms' })

/** The catalog of the app under test: the built-in booking events and its own. */
export const appCatalog = defineCatalog([...bookingEvents, roomCleaned])

/** What a producer that was not upgraded yet still sends: version 1, to the same queue. */
export const oldProducerCatalog = defineCatalog([roomCleanedV1.options({ queue: 'rooms' })])

export const aRoomCleanedV1 = (roomId: string) => ({
  type: 'room.cleaned' as const,
  version: 1 as const,
  eventId: randomUUID(),
  occurredAt: new Date().toISOString(),
  tenantId: 'clinic-1',
  payload: { roomId },
})
