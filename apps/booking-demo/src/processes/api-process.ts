import { readApiConfig } from '../http/api-config.js'
import { buildServer } from '../http/build-server.js'
import { traceToFiles } from '../tracing/trace-to-files.js'
import { stopOnSignal } from './stop-on-signal.js'

/**
 * The API process: `node dist/processes/api-process.js` with DATABASE_URL and REDIS_URL (or
 * REDIS_CLUSTER_NODES) set. Prints one JSON line `{"listening": url}` on stdout once it serves; SIGTERM or
 * SIGINT closes it cleanly (every plugin closes what it opened).
 */
const traced = traceToFiles('api')
const config = readApiConfig(process.env)
const app = await buildServer(config, { traced })
const url = await app.listen({ port: config.PORT, host: config.HOST })
process.stdout.write(`${JSON.stringify({ listening: url, instance: config.INSTANCE_NAME })}\n`)

stopOnSignal(() => app.close())
