import { randomUUID } from 'node:crypto'
import {
  bookingCatalog,
  bookingCreated,
  type DispatchEvent,
  Dispatcher,
  QueueAdmin,
  STALLED_DEFAULTS,
  startWorkers,
} from '@cachesaga/queue'
import { type JobsOptions, MetricsTime, Queue, Worker, type WorkerOptions } from 'bullmq'
import { Redis } from 'ioredis'
import { fmtOps, median as medianOf, percentile, table } from '../measure.js'
import {
  exportedSpans,
  offCheckNs,
  TRACING_LABELS,
  TRACING_MODES,
  type TracingMode,
  useTracing,
} from '../tracing-modes.js'

const CONCURRENCY = 32

interface Round {
  eventsPerSec: number
  /** CPU time an event cost: this process and the Redis server together, µs. Less moved by other load than time. */
  cpuUsPerEvent: number
  /** occurredAt to the end of the handler, ms. */
  lagP50Ms: number
  lagP99Ms: number
}

type BookingCreated = DispatchEvent<typeof bookingCatalog, 'booking.created'>

function events(count: number): BookingCreated[] {
  return Array.from({ length: count }, (_, i) => ({
    type: 'booking.created',
    version: 2,
    eventId: randomUUID(),
    occurredAt: new Date().toISOString(),
    tenantId: 'bench',
    payload: {
      bookingId: `b-${i}`,
      staffId: `s-${i % 50}`,
      serviceId: 'svc',
      slot: { start: '2026-03-02T09:00:00Z', end: '2026-03-02T09:30:00Z' },
    },
  }))
}

/** CPU time used so far by this process and by the Redis server, µs. */
async function cpuUsedUs(redis: Redis): Promise<number> {
  const info = await redis.info('cpu')
  const seconds = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0)
  const own = process.cpuUsage()
  return own.user + own.system + (seconds('used_cpu_user') + seconds('used_cpu_sys')) * 1e6
}

/** Resolves when `expected` handler calls have happened, collecting each call's lag. */
function completionTracker(expected: number) {
  const lags: number[] = []
  let done: () => void = () => {}
  const finished = new Promise<void>((resolve) => {
    done = resolve
  })
  return {
    finished,
    record(occurredAtMs: number) {
      lags.push(Date.now() - occurredAtMs)
      if (lags.length === expected) done()
    },
    summary(elapsedMs: number, cpuUs: number): Round {
      lags.sort((a, b) => a - b)
      return {
        eventsPerSec: (expected / elapsedMs) * 1000,
        cpuUsPerEvent: cpuUs / expected,
        lagP50Ms: percentile(lags, 50),
        lagP99Ms: percentile(lags, 99),
      }
    },
  }
}

/**
 * The job options the dispatcher sends for a booking event, taken from the definition itself (its job options, a job
 * id, the event id as the deduplication id), so raw BullMQ pays for exactly the same features.
 */
function dispatcherJobOptions(event: BookingCreated): JobsOptions {
  return {
    ...bookingCreated.jobOptions,
    jobId: randomUUID(),
    deduplication: { id: event.eventId },
  }
}

/** What `startWorkers` gives BullMQ besides the connection: stalled-job settings and a week of per-minute metrics. */
const CACHESAGA_WORKER_OPTIONS: Partial<WorkerOptions> = {
  lockDuration: STALLED_DEFAULTS.lockDuration,
  stalledInterval: STALLED_DEFAULTS.stalledInterval,
  maxStalledCount: STALLED_DEFAULTS.maxStalledCount,
  metrics: { maxDataPoints: MetricsTime.ONE_WEEK },
}

type RawVariant = 'plain' | 'job options' | 'job and worker options'

async function rawBullmqRound(
  redisUrl: string,
  prefix: string,
  variant: RawVariant,
  count: number,
  batch: number,
  meter: Redis,
) {
  // One connection for the producer and one for the worker, as cachesaga has (and as separate processes would).
  const producer = new Redis(redisUrl, { maxRetriesPerRequest: null })
  const consumer = new Redis(redisUrl, { maxRetriesPerRequest: null })
  const queue = new Queue('booking', { connection: producer, prefix })
  const tracker = completionTracker(count)
  const worker = new Worker(
    'booking',
    async (job) => {
      tracker.record(Date.parse((job.data as { occurredAt: string }).occurredAt))
    },
    {
      connection: consumer,
      prefix,
      concurrency: CONCURRENCY,
      ...(variant === 'job and worker options' ? CACHESAGA_WORKER_OPTIONS : {}),
    },
  )
  await worker.waitUntilReady()
  const all = events(count)
  const cpuBefore = await cpuUsedUs(meter)
  const started = performance.now()
  for (let i = 0; i < all.length; i += batch) {
    await queue.addBulk(
      all.slice(i, i + batch).map((event) => ({
        name: event.type,
        data: event,
        ...(variant === 'plain' ? {} : { opts: dispatcherJobOptions(event) }),
      })),
    )
  }
  await tracker.finished
  const elapsed = performance.now() - started
  const round = tracker.summary(elapsed, (await cpuUsedUs(meter)) - cpuBefore)
  await worker.close()
  await queue.obliterate({ force: true })
  await queue.close()
  producer.disconnect()
  consumer.disconnect()
  return round
}

async function cachesagaRound(redisUrl: string, prefix: string, count: number, batch: number, meter: Redis) {
  const tracker = completionTracker(count)
  const options = { redis: redisUrl, prefix, catalog: bookingCatalog }
  const workers = await startWorkers({
    ...options,
    queues: ['booking'],
    concurrency: CONCURRENCY,
    events: { 'booking.created': (event) => tracker.record(Date.parse(event.occurredAt)) },
    log: () => {},
  })
  const dispatcher = new Dispatcher(options)
  const all = events(count)
  const cpuBefore = await cpuUsedUs(meter)
  const started = performance.now()
  for (let i = 0; i < all.length; i += batch) await dispatcher.dispatchAll(all.slice(i, i + batch))
  await tracker.finished
  const elapsed = performance.now() - started
  const round = tracker.summary(elapsed, (await cpuUsedUs(meter)) - cpuBefore)
  await workers.close({ timeout: '10s' })
  const admin = new QueueAdmin({ redis: redisUrl, prefix })
  const { lag } = await admin.stats('booking')
  await admin.close()
  await dispatcher.close()
  const cleanup = new Queue('booking', { connection: { url: redisUrl }, prefix })
  await cleanup.obliterate({ force: true })
  await cleanup.close()
  return { ...round, histogramP99Ms: lag.p99Ms }
}

/** Microseconds one `catalog.parse` of a booking event takes here (what dispatch and the worker each pay), median. */
function parseCostUs(): number {
  const sample = events(5_000)
  const runs: number[] = []
  for (let run = 0; run < 5; run++) {
    const started = performance.now()
    for (const event of sample) bookingCatalog.parse(event)
    runs.push(((performance.now() - started) * 1_000) / sample.length)
  }
  return medianOf(runs)
}

/** The round whose throughput is the median, with its lag figures. */
function medianRound<T extends Round>(rounds: T[]): T {
  return [...rounds].sort((a, b) => a.eventsPerSec - b.eventsPerSec)[Math.floor(rounds.length / 2)]!
}

export interface QueueBenchResult {
  markdown: string
  /** cachesaga / raw BullMQ with the dispatcher's job options, events/s: the median of the per-round ratios. */
  ratio: number
  /** Raw BullMQ with those job options / cachesaga, CPU per event: the median of the per-round ratios. */
  cpuRatio: number
}

/**
 * `booking.created` events end to end (enqueue, worker, no-op handler) through cachesaga (`dispatchAll` with
 * validation and deduplication, `startWorkers` with validation, lag histogram and BullMQ metrics) and through raw
 * BullMQ (`addBulk` plus a no-op `Worker`), plain, with the dispatcher's job options, and with the same worker options
 * too. Each round runs all four back to back on the same Redis (producer and worker on connections of their own, as
 * in separate processes); ratios are taken within a round, then the median.
 */
export async function runQueueBench(opts: { redisUrl: string; quick?: boolean }): Promise<QueueBenchResult> {
  const count = opts.quick ? 2_000 : 10_000
  const batch = 1_000
  const rounds = opts.quick ? 1 : 7
  const results = {
    plain: [] as Round[],
    jobOptions: [] as Round[],
    workerOptions: [] as Round[],
    cachesaga: [] as (Round & { histogramP99Ms?: number })[],
  }
  const ratios: number[] = []
  const ratiosToSameWorker: number[] = []
  const cpuRatios: number[] = []
  // cachesaga with a tracer provider registered, sampling off and on, run right after the plain cachesaga round (no
  // provider) of the same round: the ratios to it are per round.
  type Traced = Exclude<TracingMode, 'off'>
  const traced: Record<Traced, Round[]> = { context: [], unsampled: [], sampled: [] }
  const tracedRatios: Record<Traced, number[]> = { context: [], unsampled: [], sampled: [] }
  const tracedCpuRatios: Record<Traced, number[]> = { context: [], unsampled: [], sampled: [] }
  const spansPerEvent: number[] = []
  const meter = new Redis(opts.redisUrl)
  for (let round = 0; round < rounds; round++) {
    const tag = `${round}-${randomUUID().slice(0, 6)}`
    // Alternate which path goes first, so warm-up and drift do not always favour one.
    const ours = async () => {
      results.cachesaga.push(await cachesagaRound(opts.redisUrl, `{bench-cs-${tag}}`, count, batch, meter))
      const modes: Traced[] = ['context', 'unsampled', 'sampled']
      if (round % 2 === 1) modes.reverse()
      for (const mode of modes) {
        await useTracing(mode)
        const measured = await cachesagaRound(opts.redisUrl, `{bench-cs-${mode}-${tag}}`, count, batch, meter)
        if (mode === 'sampled') spansPerEvent.push((await exportedSpans()) / count)
        await useTracing('off')
        traced[mode].push(measured)
        tracedRatios[mode].push(measured.eventsPerSec / results.cachesaga[round]!.eventsPerSec)
        tracedCpuRatios[mode].push(results.cachesaga[round]!.cpuUsPerEvent / measured.cpuUsPerEvent)
      }
    }
    if (round % 2 === 1) await ours()
    results.plain.push(
      await rawBullmqRound(opts.redisUrl, `{bench-raw-${tag}}`, 'plain', count, batch, meter),
    )
    results.jobOptions.push(
      await rawBullmqRound(opts.redisUrl, `{bench-rawopts-${tag}}`, 'job options', count, batch, meter),
    )
    results.workerOptions.push(
      await rawBullmqRound(
        opts.redisUrl,
        `{bench-rawworker-${tag}}`,
        'job and worker options',
        count,
        batch,
        meter,
      ),
    )
    if (round % 2 === 0) await ours()
    ratios.push(results.cachesaga[round]!.eventsPerSec / results.jobOptions[round]!.eventsPerSec)
    ratiosToSameWorker.push(
      results.cachesaga[round]!.eventsPerSec / results.workerOptions[round]!.eventsPerSec,
    )
    cpuRatios.push(results.jobOptions[round]!.cpuUsPerEvent / results.cachesaga[round]!.cpuUsPerEvent)
  }
  meter.disconnect()
  const ratio = medianOf(ratios)
  const cpuRatio = medianOf(cpuRatios)
  const parseUs = parseCostUs()
  const rawUsPerEvent = 1e6 / medianRound(results.jobOptions).eventsPerSec
  const row = (name: string, r: Round) => [
    name,
    `${fmtOps(r.eventsPerSec)}/s`,
    `${r.cpuUsPerEvent.toFixed(0)} µs`,
    `${r.lagP50Ms.toFixed(0)} ms`,
    `${r.lagP99Ms.toFixed(0)} ms`,
  ]
  const ours = medianRound(results.cachesaga)
  const pct = (value: number) => `${(value * 100).toFixed(0)}%`
  const checkNs = offCheckNs()
  const tracingRows = TRACING_MODES.map((mode: TracingMode) => {
    const r = mode === 'off' ? ours : medianRound(traced[mode])
    const vsOff = (ratiosOf: Record<Traced, number[]>) =>
      mode === 'off' ? '1' : `${medianOf(ratiosOf[mode]).toFixed(2)}x`
    return [
      TRACING_LABELS[mode],
      `${fmtOps(r.eventsPerSec)}/s`,
      `${r.cpuUsPerEvent.toFixed(0)} µs`,
      vsOff(tracedRatios),
      vsOff(tracedCpuRatios),
      mode === 'sampled' ? medianOf(spansPerEvent).toFixed(2) : '0',
    ]
  })
  const markdown = [
    `${count.toLocaleString('en')} \`booking.created\` events end to end (enqueued in batches of ${batch}, one worker ` +
      `with concurrency ${CONCURRENCY}, no-op handler); median of ${rounds} rounds, the order alternating. Lag is from ` +
      "the event's `occurredAt` to the end of its handler. CPU per event is this process's and the Redis server's CPU " +
      'time over the round, divided by the events: other load on the machine moves it much less than throughput.',
    '',
    table(
      ['path', 'throughput', 'CPU per event', 'lag p50', 'lag p99'],
      [
        row('raw BullMQ (`addBulk` + `Worker`)', medianRound(results.plain)),
        row(
          "raw BullMQ with the dispatcher's job options (job id, deduplication, retries, trimming)",
          medianRound(results.jobOptions),
        ),
        row(
          'raw BullMQ with those job options and the worker options of `startWorkers` (metrics, stalled-job settings)',
          medianRound(results.workerOptions),
        ),
        row('cachesaga (`dispatchAll` + `startWorkers`)', ours),
      ],
    ),
    '',
    `cachesaga / raw BullMQ with the same job options: **${ratio.toFixed(2)}x** (median of per-round ratios: ` +
      `${ratios.map((r) => r.toFixed(2)).join(', ')}; target ≥ 0.95x, ${ratio >= 0.95 ? 'met' : 'NOT met'}). ` +
      `Against raw BullMQ with the same worker options as well: ${medianOf(ratiosToSameWorker).toFixed(2)}x. ` +
      `In CPU per event, raw BullMQ with the same job options / cachesaga: **${cpuRatio.toFixed(2)}x** (per round: ` +
      `${cpuRatios.map((r) => r.toFixed(2)).join(', ')}). ` +
      `Lag p99 as reported by \`QueueAdmin.stats\` (bucket upper bound): ${ours.histogramP99Ms ?? '-'} ms.`,
    '',
    `Where the time goes: the dispatcher's job options cost raw BullMQ ` +
      `${pct(1 - medianRound(results.jobOptions).eventsPerSec / medianRound(results.plain).eventsPerSec)} of its plain ` +
      "throughput (a job id, deduplication and trimming in BullMQ's add and finish scripts). On top of that cachesaga " +
      `validates each event twice (at dispatch, and in the worker, since job data may come from other producers): ` +
      `${parseUs.toFixed(1)} µs a parse in this run, ${pct((2 * parseUs) / rawUsPerEvent)} of the ` +
      `${rawUsPerEvent.toFixed(0)} µs an event takes end to end; in production the two parses run in different ` +
      "processes. BullMQ's per-minute metrics (read by `QueueAdmin.stats`) run inside its finish script (the third row " +
      'measures them). The lag histogram is counted in memory and written once a second with one pipelined HINCRBY per ' +
      'bucket, so it adds no round trip per job.',
    '',
    '### Tracing (OpenTelemetry)',
    '',
    'The cachesaga path above (no tracer provider registered, as without OpenTelemetry) beside the same path with a ' +
      'provider registered as an application does (an AsyncLocalStorage context manager, the W3C propagator), ' +
      "sampling nothing and sampling everything, and with the SDK's context manager registered alone (cachesaga then " +
      'traces nothing: that row is what the context manager costs every promise of the process, whoever traces). ' +
      'Each of these rounds runs right after the untraced one of the same round, and the ratios are the median of the ' +
      'per-round ratios (events/s traced / untraced; CPU per event untraced / traced: below 1 means that share more).',
    '',
    table(
      ['tracing', 'throughput', 'CPU per event', 'events/s vs none', 'CPU vs none', 'spans per event'],
      tracingRows,
    ),
    '',
    `With no provider registered, tracing adds one check per job and one per queue of a \`dispatchAll\` (is a ` +
      `provider registered?): ${checkNs.toFixed(1)} ns each in this run (\`PackageTracing.tracer()\`, median of 5 ` +
      `runs of 2 million), ${((2 * checkNs) / (rawUsPerEvent * 1_000)).toExponential(1)} of an event's ` +
      `${rawUsPerEvent.toFixed(0)} µs: nothing this benchmark can see. Sampled, an event costs its \`process\` span and ` +
      `a share of its batch's \`send\` span (one per ${batch} events). The per-round ratios of CPU per event spread ` +
      `widely on a shared machine: ${(['context', 'unsampled', 'sampled'] as const)
        .map((mode) => `${mode} ${tracedCpuRatios[mode].map((r) => r.toFixed(2)).join(', ')}`)
        .join('; ')}.`,
  ].join('\n')
  return { markdown, ratio, cpuRatio }
}
