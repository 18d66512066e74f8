import autocannon from 'autocannon'

/**
 * A child process of the load command: availability reads with autocannon at `CONNECTIONS` connections across
 * the URLs in `URLS` (comma-separated; autocannon spreads the connections over them), cycling through the paths
 * in `PATHS` (JSON), for `DURATION_S` seconds, at `READ_RATE` reads/s in all (0: as fast as they are answered). Prints its result as one JSON line. A process of its own, so
 * generating the reads does not take CPU from the writes and the freshness probes it is compared with.
 */
const result = await autocannon({
  // autocannon spreads the connections over several URLs; its type definitions only know of one.
  url: process.env.URLS!.split(',') as unknown as string,
  connections: Number(process.env.CONNECTIONS),
  duration: Number(process.env.DURATION_S),
  // 0: as fast as the instances answer.
  ...(Number(process.env.READ_RATE) > 0 && { overallRate: Number(process.env.READ_RATE) }),
  requests: (JSON.parse(process.env.PATHS!) as string[]).map((path) => ({ method: 'GET', path })),
})
process.stdout.write(
  `${JSON.stringify({
    requests: result.requests.total,
    durationS: result.duration,
    non2xx: result.non2xx,
    errors: result.errors,
    latencyMs: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
  })}\n`,
)
