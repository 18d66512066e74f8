import { z } from 'zod'

/** What a maintenance worker calls: a `Cache['warmer']` of @cachesaga/core fits. */
export interface CacheMaintainer {
  warm(names?: readonly string[]): Promise<unknown>
  refresh(): Promise<unknown>
}

/** A maintenance job: warm some registered names (all when left out), or one refresh sweep. */
export const maintenanceTaskSchema = z.discriminatedUnion('task', [
  z.strictObject({ task: z.literal('warm'), names: z.array(z.string().min(1)).min(1).optional() }),
  z.strictObject({ task: z.literal('refresh') }),
])

export type MaintenanceTask = z.input<typeof maintenanceTaskSchema>
