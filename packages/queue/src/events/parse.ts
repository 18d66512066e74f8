import { z } from 'zod'
import { QueueError } from '../errors.js'
import { describeIssues } from './issues.js'
import { CURRENT_VERSIONS, LEGACY_VERSIONS } from './legacy.js'
import { DOMAIN_EVENT_TYPES, type DomainEvent, domainEventSchema } from './schemas.js'

const header = z.object({
  type: z.enum(DOMAIN_EVENT_TYPES as [DomainEvent['type'], ...DomainEvent['type'][]]),
  version: z.int().positive(),
})

function invalid(message: string): QueueError {
  return new QueueError('CSQ_ERR_INVALID_EVENT', message)
}

/**
 * Validates an event from outside (a producer, a job payload) and returns it at its current version.
 * Older versions are upcast when that is lossless and rejected with the reason when it is not.
 * Throws `QueueError` `CSQ_ERR_INVALID_EVENT` naming the field at fault.
 */
export function parseDomainEvent(input: unknown): DomainEvent {
  const head = header.safeParse(input)
  if (!head.success) throw invalid(`not a domain event: ${describeIssues(head.error.issues)}`)
  const { type, version } = head.data
  const current = CURRENT_VERSIONS[type]
  const label = `${type} v${version}`

  let candidate = input
  if (version > current) {
    throw invalid(
      `${label} is newer than this build understands (latest is v${current}); upgrade the consumer`,
    )
  }
  if (version < current) {
    const legacy = LEGACY_VERSIONS[type]?.[version]
    if (legacy === undefined) throw invalid(`${label} is no longer supported (latest is v${current})`)
    if ('rejected' in legacy) throw invalid(`${label} rejected: ${legacy.rejected}`)
    const old = legacy.schema.safeParse(input)
    if (!old.success) throw invalid(`${label}: ${describeIssues(old.error.issues)}`)
    candidate = legacy.upcast(old.data as never)
  }

  const parsed = domainEventSchema.safeParse(candidate)
  if (!parsed.success) throw invalid(`${label}: ${describeIssues(parsed.error.issues)}`)
  return parsed.data
}
