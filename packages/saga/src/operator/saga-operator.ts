import { z } from 'zod'
import { emitSagaEvent, type SagaEventEmitter } from '../events.js'
import { parseOrThrow } from '../parse.js'
import type { SagaOutcome } from '../runtime/saga-outcome.js'
import type { SagaRecord, SagaState } from '../store/saga-record.js'
import type { SagaLogEntry, SagaStore } from '../store/saga-store.js'

const actionSchema = z.object({
  /** Who decided: recorded in the saga's log. */
  actor: z.string().min(1),
  note: z.string().optional(),
})
const skipSchema = actionSchema.extend({ step: z.string().min(1) })

export type OperatorAction = z.input<typeof actionSchema>

/**
 * What a person can do about sagas that wait for one (`parked`, `compensation_failed`). Every action is written to
 * the saga's log with its actor, in the same Lua script that changes the state.
 */
export class SagaOperator {
  constructor(
    private readonly store: SagaStore,
    private readonly events: SagaEventEmitter | undefined,
    private readonly runner: {
      /** Throws SAGA_ERR_UNKNOWN_SAGA when this runner could not drive the saga on after the action. */
      assertKnown(name: string): void
      resume(sagaId: string): Promise<SagaOutcome>
    },
  ) {}

  /** Ids of the sagas in `state`, sorted. */
  list(state: SagaState): Promise<string[]> {
    return this.store.listByState(state)
  }

  /** The record and the whole log of a saga; undefined when there is no such saga. */
  async inspect(sagaId: string): Promise<{ record: SagaRecord; log: SagaLogEntry[] } | undefined> {
    const record = await this.store.load(sagaId)
    return record && { record, log: await this.store.readLog(sagaId) }
  }

  /** Gives the step the saga waits on a fresh retry budget and drives the saga on; returns where it ends. */
  async retry(sagaId: string, action: OperatorAction): Promise<SagaOutcome> {
    const by = parseOrThrow(actionSchema, action, 'SAGA_ERR_INVALID_OPTIONS', 'action')
    await this.apply(sagaId, 'retry', by)
    return this.runner.resume(sagaId)
  }

  /**
   * Treats `step` (the one the saga waits on) as done, its result null or its compensation applied, and drives the
   * saga on.
   */
  async skip(sagaId: string, action: OperatorAction & { step: string }): Promise<SagaOutcome> {
    const by = parseOrThrow(skipSchema, action, 'SAGA_ERR_INVALID_OPTIONS', 'action')
    await this.apply(sagaId, 'skip', by)
    return this.runner.resume(sagaId)
  }

  /** Closes the saga as `resolved`: the operator finished the work by hand. */
  async resolve(sagaId: string, action: OperatorAction): Promise<SagaState> {
    const by = parseOrThrow(actionSchema, action, 'SAGA_ERR_INVALID_OPTIONS', 'action')
    return this.apply(sagaId, 'resolve', by)
  }

  private async apply(
    sagaId: string,
    action: 'retry' | 'skip' | 'resolve',
    by: { actor: string; note?: string | undefined; step?: string },
  ): Promise<SagaState> {
    const record = await this.store.load(sagaId)
    if (record && action !== 'resolve') this.runner.assertKnown(record.name)
    const state = await this.store.operatorAction(sagaId, action, by)
    emitSagaEvent(this.events, `operator.${action}`, {
      sagaId,
      saga: record?.name ?? '',
      state,
      actor: by.actor,
      ...(record?.parkedStep && { step: record.parkedStep }),
    })
    return state
  }
}
