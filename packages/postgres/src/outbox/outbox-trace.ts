import {
  extractTraceCarrier,
  injectTraceCarrier,
  otel,
  PackageTracing,
  type TraceCarrier,
} from '@cachesaga/common/tracing'

/** The tracer of @cachesaga/postgres; off (undefined) while the application registered no tracer provider. */
const tracing = new PackageTracing(new URL('../../package.json', import.meta.url))

/** An outbox row as the relay claims it. */
export interface OutboxRow<Event> {
  id: string
  event: Event
  /** The trace context the event was recorded in; null when the app did not trace then. */
  trace: TraceCarrier | null
}

/**
 * The trace context to record with events appended now: the current span's, when a tracer provider is registered
 * and there is one; null otherwise (the column stays empty and nothing else is done).
 */
export function currentTraceCarrier(): TraceCarrier | null {
  if (tracing.tracer() === undefined) return null
  return injectTraceCarrier() ?? null
}

/**
 * Dispatches a claimed batch so that each event's send is in the trace it was recorded in: the request that committed
 * it, rather than the relay's own. Consecutive rows of one context go in one `dispatchAll` inside it; rows without a
 * context (or with one that does not validate, which is then dropped, not fatal) go in one outside any. Untraced, the
 * batch is one `dispatchAll`, as without this module; traced, a batch of events from N requests costs N dispatches.
 */
export async function dispatchInTraces<Event>(
  dispatcher: { dispatchAll(events: readonly Event[]): Promise<unknown> },
  rows: readonly OutboxRow<Event>[],
): Promise<void> {
  if (tracing.tracer() === undefined || rows.every((row) => row.trace === null)) {
    await dispatcher.dispatchAll(rows.map((row) => row.event))
    return
  }
  const api = otel!
  let start = 0
  while (start < rows.length) {
    const trace = JSON.stringify(rows[start]!.trace)
    let end = start + 1
    while (end < rows.length && JSON.stringify(rows[end]!.trace) === trace) end++
    const events = rows.slice(start, end).map((row) => row.event)
    const carried = rows[start]!.trace === null ? undefined : extractTraceCarrier(rows[start]!.trace)
    const context = carried !== undefined && 'context' in carried ? carried.context : api.ROOT_CONTEXT
    await api.context.with(context, () => dispatcher.dispatchAll(events))
    start = end
  }
}
