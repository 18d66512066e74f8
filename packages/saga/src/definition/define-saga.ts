import type { Duration } from '@cachesaga/common'
import { z } from 'zod'
import { SagaError } from '../errors.js'
import { parseOrThrow } from '../parse.js'
import { type RetryPolicyInput, stepSettingsSchema } from './retry-policy.js'
import type { CompensationContext, SagaStep, StepContext } from './step.js'

/** A step written by the user. */
export interface TaskStepOptions<Input, Results, Output> {
  /** The side effect. Its result must be JSON-serialisable: it is stored before the next step starts. */
  run(ctx: StepContext<Input, Results>): Promise<Output> | Output
  /** Undoes `run`. Not allowed on the pivot or after it: those steps are never rolled back. */
  compensate?(ctx: CompensationContext<Input, Results, Output>): Promise<void> | void
  /** `'pivot'`: the point of no return (e.g. committing the booking). At most one per saga. */
  kind?: 'pivot'
  /**
   * Run in a transaction of the saga store, which records the step's completion in the same transaction: the step's
   * business writes (done through `ctx.transaction`) and its progress commit together. Needs a store that offers
   * step transactions (the Redis store does not: the runner refuses the saga). Applies to `run`, not `compensate`.
   */
  transaction?: boolean
  /** Retry of transient failures (not of rejections or deterministic failures). Defaults: see `retryPolicySchema`. */
  retry?: RetryPolicyInput
  /** An attempt running longer fails with SAGA_ERR_STEP_TIMEOUT, a transient failure (ms or `'30s'`). Default 30 s. */
  timeout?: Duration
}

const taskSettingsSchema = stepSettingsSchema.extend({
  kind: z.literal('pivot').optional(),
  transaction: z.boolean().default(false),
})

type NoResults = Record<never, never>

/**
 * A saga: a name, an input schema and an ordered list of steps. Immutable: `step()` returns a new definition whose
 * type knows the new step's result.
 */
export class SagaDefinition<Schema extends z.ZodType = z.ZodType, Results extends object = NoResults> {
  /** Index of the pivot; `steps.length` when there is none, so every step can be compensated. */
  readonly pivotIndex: number

  constructor(
    readonly name: string,
    readonly input: Schema,
    readonly steps: readonly SagaStep[],
  ) {
    const pivot = steps.findIndex((step) => step.kind === 'pivot')
    this.pivotIndex = pivot === -1 ? steps.length : pivot
  }

  step<Name extends string, Output>(
    name: Name,
    options: TaskStepOptions<z.output<Schema>, Results, Output>,
  ): SagaDefinition<Schema, Results & Record<Name, Output>>
  step(step: SagaStep<z.output<Schema>, Results>): SagaDefinition<Schema, Results>
  step(
    nameOrStep: string | SagaStep<z.output<Schema>, Results>,
    options?: TaskStepOptions<z.output<Schema>, Results, unknown>,
  ): SagaDefinition<Schema, object> {
    const step = typeof nameOrStep === 'string' ? taskStep(nameOrStep, options) : nameOrStep
    this.check(step)
    return new SagaDefinition(this.name, this.input, [...this.steps, step as unknown as SagaStep])
  }

  private check(step: SagaStep<z.output<Schema>, Results>): void {
    const problem = (why: string) =>
      new SagaError('SAGA_ERR_DEFINITION', `saga "${this.name}", step "${step.name}": ${why}`, {
        details: { saga: this.name, step: step.name },
      })
    if (this.steps.some((existing) => existing.name === step.name)) throw problem('the name is already used')
    const afterPivot = this.pivotIndex < this.steps.length
    if (step.kind === 'pivot' && afterPivot) throw problem('a saga has at most one pivot')
    if (step.kind === 'pivot' && step.compensate) throw problem('the pivot cannot be compensated')
    if (step.kind === 'task' && afterPivot && step.compensate) {
      throw problem('steps after the pivot are never compensated; remove `compensate`')
    }
  }
}

function taskStep<Input, Results>(
  name: string,
  options: TaskStepOptions<Input, Results, unknown> | undefined,
): SagaStep<Input, Results> {
  if (!options) {
    throw new SagaError('SAGA_ERR_DEFINITION', `step "${name}" has no options`, { details: { step: name } })
  }
  const { kind, retry, timeout, transaction } = parseOrThrow(
    taskSettingsSchema,
    options,
    'SAGA_ERR_DEFINITION',
    name,
  )
  const { run, compensate } = options
  return {
    name,
    kind: kind ?? 'task',
    retry,
    timeoutMs: timeout,
    ...(transaction && { transaction }),
    run: async (ctx) => run(ctx),
    ...(compensate && {
      compensate: async (ctx: CompensationContext<Input, Results, unknown>) => compensate(ctx),
    }),
  }
}

/** Starts a saga definition; `input` is parsed on every `run`, before anything is stored or executed. */
export function defineSaga<Schema extends z.ZodType>(
  name: string,
  options: { input: Schema },
): SagaDefinition<Schema> {
  if (name.length === 0) throw new SagaError('SAGA_ERR_DEFINITION', 'a saga needs a name')
  return new SagaDefinition(name, options.input, [])
}
