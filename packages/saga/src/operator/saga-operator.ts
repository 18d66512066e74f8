import { z } from 'zod'
import { emitSagaEvent, type SagaEventEmitter } from '../events.js'
import { parseOrThrow } from '../parse.js'
import type { SagaOutcome } from '../runtime/saga-outcome.js'
import type { SagaLogEntry, SagaRecord, SagaState } from '../store/saga-record.js'
import type { OperatorDecision, SagaStore } from '../store/saga-store.js'

const actionSchema = z.object({
  /** Who decided: recorded in the saga's log. */
  actor: z.string().min(1),
  note: z.string().optional(),
})
const skipSchema = actionSchema.extend({ step: z.string().min(1) })

export type OperatorAction = z.input<typeof actionSchema>

/**
 * What a person can do about sagas that wait for one (`parked`, `compensation_failed`). Every action is written to
 * the saga's log with its actor, in the same atomic write that changes the state.
 */
export class SagaOperator {
  constructor(
    private readonly store: SagaStore,
    private readonly events: SagaEventEmitter | undefined,
    private readonly runner: {
      /** Throws SAGA_ERR_UNKNOWN_SAGA when this runner could not drive the saga on after the action. */
      assertKnown(name: string): void
      resume(sagaId: string): Promise<SagaOutcome>
      /** The bounded wait for the store (CS_ERR_REDIS_UNREACHABLE). */
      ready(): Promise<void>
      /** The store is reachable and durable (the runner's check, done once): what driving a saga on needs. */
      readyToDrive(): Promise<void>
    },
  ) {}

  /** Ids of the sagas in `state`, sorted. */
  async list(state: SagaState): Promise<string[]> {
    await this.runner.ready()
    return this.store.listByState(state)
  }

  /** The record and the whole log of a saga; undefined when there is no such saga. */
  async inspect(sagaId: string): Promise<{ record: SagaRecord; log: SagaLogEntry[] } | undefined> {
    await this.runner.ready()
    const record = await this.store.load(sagaId)
    return record && { record, log: await this.store.readLog(sagaId) }
  }

  /** Gives the step the saga waits on a fresh retry budget and drives the saga on; returns where it ends. */
  async retry(sagaId: string, action: OperatorAction): Promise<SagaOutcome> {
    const by = parseOrThrow(actionSchema, action, 'SAGA_ERR_INVALID_OPTIONS', 'action')
    // Checked before the decision is recorded: a refused drive must not leave the saga running for someone else.
    await this.runner.readyToDrive()
    await this.decide(sagaId, 'retry', by)
    return this.runner.resume(sagaId)
  }

  /**
   * Treats `step` (the one the saga waits on) as done, its result null or its compensation applied, and drives the
   * saga on.
   */
  async skip(sagaId: string, action: OperatorAction & { step: string }): Promise<SagaOutcome> {
    const by = parseOrThrow(skipSchema, action, 'SAGA_ERR_INVALID_OPTIONS', 'action')
    await this.runner.readyToDrive()
    await this.decide(sagaId, 'skip', by)
    return this.runner.resume(sagaId)
  }

  /** Closes the saga as `resolved`: the operator finished the work by hand. */
  async resolve(sagaId: string, action: OperatorAction): Promise<SagaState> {
    const by = parseOrThrow(actionSchema, action, 'SAGA_ERR_INVALID_OPTIONS', 'action')
    return this.decide(sagaId, 'resolve', by)
  }

  private async decide(
    sagaId: string,
    decision: OperatorDecision,
    by: { actor: string; note?: string | undefined; step?: string },
  ): Promise<SagaState> {
    await this.runner.ready()
    const record = await this.store.load(sagaId)
    if (record && decision !== 'resolve') this.runner.assertKnown(record.name)
    const state = await this.store.decide(sagaId, decision, by)
    emitSagaEvent(this.events, `operator.${decision}`, {
      sagaId,
      saga: record?.name ?? '',
      state,
      actor: by.actor,
      ...(record?.parkedStep && { step: record.parkedStep }),
    })
    return state
  }
}
