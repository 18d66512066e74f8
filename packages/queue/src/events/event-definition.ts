import { describeIssues } from '@cachesaga/common'
import type { JobsOptions } from 'bullmq'
import { z } from 'zod'
import { QueueError } from '../errors.js'
import { RESERVED_QUEUES } from '../queues/internal-queues.js'
import { type DomainEventShape, type EventEnvelope, envelopeShape } from './envelope.js'
import { DEFAULT_JOB_OPTIONS, type JobOptions, jobOptionsSchema, toBullJobOptions } from './job-options.js'
import { strictSchema } from './strict-schema.js'

/** Turns the payload of the previous version into the input of this one; the result is validated again. */
export type Upcaster<From, To> = (previous: From, envelope: EventEnvelope) => To

/** Which pending job absorbs a re-sent event: BullMQ keeps one job per key while it is pending. */
export interface Deduplication<E> {
  key(event: E): string
  /**
   * While a job with this key runs, keep one more waiting (the latest) instead of dropping the newcomer: for events
   * whose handler reads the current state anyway (a calendar sync), a burst collapses into one follow-up run.
   */
  keepLastIfActive?: boolean
}

/** How an event type travels; every field has a default, so a definition needs none of them. */
export interface EventOptions<E, Queue extends string> {
  /** The BullMQ queue its jobs go to. Default: the event type. */
  queue?: Queue
  /** Default: one pending job per `eventId`. */
  deduplication?: Deduplication<E>
  /** Merged over the defaults (`DEFAULT_JOB_OPTIONS`: 6 attempts, exponential backoff, failed jobs kept). */
  jobOptions?: JobOptions
  /** Reject unknown payload fields (every `z.object` of every version behaves like `z.strictObject`). Default true. */
  strict?: boolean
}

/**
 * One event type: its versions (a zod payload schema each, an upcaster from each older version), where it is queued
 * and with which job options. The event a handler receives is the latest version's, with its type inferred.
 */
export interface EventDefinition<
  Type extends string = string,
  Schema extends z.ZodType = z.ZodType,
  Version extends number = number,
  Queue extends string = string,
> {
  readonly type: Type
  readonly latestVersion: Version
  /** The latest version's payload schema, as given. */
  readonly payloadSchema: Schema
  readonly queue: Queue
  readonly strict: boolean
  /** BullMQ job options of every job of this type, before a dispatch's own `delay` and `priority`. */
  readonly jobOptions: Readonly<JobsOptions>
  /** The deduplication BullMQ gets for this event. */
  deduplicationOf(event: DomainEventShape<Type, Version, z.output<Schema>>): {
    id: string
    keepLastIfActive?: boolean
  }
  /**
   * Validates an event of this type at `version` (upcast when older) and returns it at the latest version. Throws
   * `CSQ_ERR_INVALID_EVENT` naming the field; the catalog calls this once it has read `type` and `version`.
   */
  parseVersion(input: unknown, version: number): DomainEventShape<Type, Version, z.output<Schema>>
  /** The same definition with other options, merged over these (job options field by field). */
  options<Q extends string = Queue>(
    options: EventOptions<DomainEventShape<Type, Version, z.output<Schema>>, Q>,
  ): EventDefinition<Type, Schema, Version, Q>
}

/** A definition that may still gain versions: what `defineEvent(type).version(1, schema)` returns. */
export interface VersionedEvent<
  Type extends string = string,
  Schema extends z.ZodType = z.ZodType,
  Version extends number = number,
> extends EventDefinition<Type, Schema, Version, Type> {
  /** The next version (`latestVersion + 1`) and how the previous one's payload becomes this one's. */
  version<N extends number, S extends z.ZodType>(
    version: N,
    payload: S,
    upcast: Upcaster<z.output<Schema>, z.input<S>>,
  ): VersionedEvent<Type, S, N>
  /**
   * The next version, when older events cannot be turned into it (a field they never carried): they are rejected
   * with `reason`, which should say what the producer must send instead.
   */
  breakingVersion<N extends number, S extends z.ZodType>(
    version: N,
    payload: S,
    reason: string,
  ): VersionedEvent<Type, S, N>
}

/** Any definition, for catalogs and constraints. */
// biome-ignore lint/suspicious/noExplicitAny: the payload schema varies per definition; `any` keeps them assignable.
export type AnyEventDefinition = EventDefinition<string, any, number, string>

/** The event a definition's handlers receive: its latest version, typed. */
export type EventOf<D> =
  D extends EventDefinition<infer T, infer S, infer V, string> ? DomainEventShape<T, V, z.output<S>> : never

/** What a producer hands to `dispatch` for a definition: the latest version's payload input; `version` may be left out. */
export type DispatchEventOf<D> =
  D extends EventDefinition<infer T, infer S, infer V, string>
    ? Omit<DomainEventShape<T, V, z.input<S>>, 'version'> & { version?: V }
    : never

interface VersionStep {
  version: number
  payload: z.ZodType
  /** From the previous version: an upcaster, or why it cannot be read. Absent for the first version. */
  from?: Upcaster<unknown, unknown> | { unreadable: string }
}

interface Settings {
  queue: string
  deduplication: Deduplication<DomainEventShape> | undefined
  jobOptions: JobOptions
  strict: boolean
}

const TYPE_PATTERN = /^[a-z0-9][a-z0-9_-]*(\.[a-z0-9_-]+)*$/i

/**
 * Starts the definition of an event type; add its first version with `.version(1, payloadSchema)`:
 *
 * ```ts
 * const staffScheduleChanged = defineEvent('staff.schedule.changed')
 *   .version(1, z.object({ staffId: z.string(), day: z.iso.date() }))
 *   .version(2, z.object({ staffId: z.string(), days: z.array(z.iso.date()) }), (v1) => ({ ...v1, days: [v1.day] }))
 *   .options({ queue: 'staff' })
 * ```
 */
export function defineEvent<Type extends string>(
  type: Type,
): { version<S extends z.ZodType>(version: 1, payload: S): VersionedEvent<Type, S, 1> } {
  if (!TYPE_PATTERN.test(type)) {
    throw invalidDefinition(`event type "${type}" must be dot-separated words (letters, digits, "-" and "_")`)
  }
  return {
    version: (version, payload) => {
      if (version !== 1) throw invalidDefinition(`${type}: the first version must be 1, not ${version}`)
      return new Definition(type, [{ version: 1, payload }], {
        queue: type,
        deduplication: undefined,
        jobOptions: {},
        strict: true,
      }) as never
    },
  }
}

class Definition {
  readonly latestVersion: number
  readonly payloadSchema: z.ZodType
  readonly jobOptions: Readonly<JobsOptions>
  /** Full event schemas by version, built when first needed: most versions of most types are never read. */
  private readonly eventSchemas = new Map<number, z.ZodType>()

  constructor(
    readonly type: string,
    private readonly steps: readonly VersionStep[],
    private readonly settings: Settings,
  ) {
    const latest = steps.at(-1)!
    this.latestVersion = latest.version
    this.payloadSchema = latest.payload
    const jobOptions = jobOptionsSchema.safeParse({ ...DEFAULT_JOB_OPTIONS, ...settings.jobOptions })
    if (!jobOptions.success) {
      throw invalidDefinition(`${type}: ${describeIssues(jobOptions.error.issues, 'jobOptions')}`)
    }
    this.jobOptions = Object.freeze(toBullJobOptions(jobOptions.data))
  }

  get queue(): string {
    return this.settings.queue
  }

  get strict(): boolean {
    return this.settings.strict
  }

  version(version: number, payload: z.ZodType, upcast: Upcaster<unknown, unknown>): Definition {
    return this.next(version, payload, upcast)
  }

  breakingVersion(version: number, payload: z.ZodType, reason: string): Definition {
    if (reason.trim() === '')
      throw invalidDefinition(`${this.type} v${version}: give the reason older versions fail`)
    return this.next(version, payload, { unreadable: reason })
  }

  options(options: EventOptions<DomainEventShape, string>): Definition {
    const queue = options.queue ?? this.settings.queue
    if (queue.length === 0 || queue.includes(':')) {
      throw invalidDefinition(
        `${this.type}: queue "${queue}" must be non-empty and without ":" (BullMQ's rule)`,
      )
    }
    if ((RESERVED_QUEUES as readonly string[]).includes(queue)) {
      throw invalidDefinition(`${this.type}: queue "${queue}" is reserved for cachesaga's own jobs`)
    }
    return new Definition(this.type, this.steps, {
      queue,
      deduplication: options.deduplication ?? this.settings.deduplication,
      jobOptions: { ...this.settings.jobOptions, ...options.jobOptions },
      strict: options.strict ?? this.settings.strict,
    })
  }

  deduplicationOf(event: DomainEventShape): { id: string; keepLastIfActive?: boolean } {
    const rule = this.settings.deduplication
    if (rule === undefined) return { id: event.eventId }
    const id = rule.key(event)
    return rule.keepLastIfActive ? { id, keepLastIfActive: true } : { id }
  }

  parseVersion(input: unknown, version: number): DomainEventShape {
    const label = `${this.type} v${version}`
    if (version > this.latestVersion) {
      throw invalidEvent(
        `${label} is newer than this build understands (latest is v${this.latestVersion}); upgrade the consumer`,
        { type: this.type, version },
      )
    }
    const first = this.steps[0]!.version
    if (version < first) {
      throw invalidEvent(`${label} is not a version of this event (the first is v${first})`, {
        type: this.type,
        version,
      })
    }
    // Reject before any parsing when a breaking version lies ahead: no upcaster can bridge it.
    const breaking = this.steps.find(
      (step) => step.version > version && step.from !== undefined && 'unreadable' in step.from,
    )
    if (breaking !== undefined) {
      const reason = (breaking.from as { unreadable: string }).unreadable
      throw invalidEvent(`${label} rejected: ${reason}`, { type: this.type, version })
    }
    let event = this.parseAt(input, version, label)
    for (const step of this.steps) {
      if (step.version <= version) continue
      let payload: unknown
      try {
        payload = (step.from as Upcaster<unknown, unknown>)(event.payload, {
          eventId: event.eventId,
          occurredAt: event.occurredAt,
          tenantId: event.tenantId,
        })
      } catch (error) {
        throw invalidEvent(`${label}: upcasting to v${step.version} failed: ${(error as Error).message}`, {
          type: this.type,
          version,
        })
      }
      event = this.parseAt({ ...event, version: step.version, payload }, step.version, label)
    }
    return event
  }

  private parseAt(input: unknown, version: number, label: string): DomainEventShape {
    const parsed = this.eventSchema(version).safeParse(input)
    if (parsed.success) return parsed.data as DomainEventShape
    throw invalidEvent(`${label}: ${describeIssues(parsed.error.issues)}`, {
      type: this.type,
      version,
      field: parsed.error.issues[0]?.path.join('.'),
    })
  }

  private eventSchema(version: number): z.ZodType {
    let schema = this.eventSchemas.get(version)
    if (schema === undefined) {
      const step = this.steps.find((candidate) => candidate.version === version)!
      schema = z.strictObject({
        type: z.literal(this.type),
        version: z.literal(version),
        ...envelopeShape,
        payload: this.settings.strict ? strictSchema(step.payload) : step.payload,
      })
      this.eventSchemas.set(version, schema)
    }
    return schema
  }

  private next(version: number, payload: z.ZodType, from: VersionStep['from']): Definition {
    if (version !== this.latestVersion + 1) {
      throw invalidDefinition(
        `${this.type}: versions are consecutive; after v${this.latestVersion} comes v${this.latestVersion + 1}, not v${version}`,
      )
    }
    return new Definition(this.type, [...this.steps, { version, payload, from }], this.settings)
  }
}

function invalidDefinition(message: string): QueueError {
  return new QueueError('CSQ_ERR_INVALID_DEFINITION', message)
}

function invalidEvent(message: string, details: Record<string, unknown>): QueueError {
  return new QueueError('CSQ_ERR_INVALID_EVENT', message, { details })
}
