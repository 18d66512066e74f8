import { readApiConfig } from '../api/api-config.js'
import { createApiContext } from '../api/api-context.js'
import { buildServer } from '../http/build-server.js'
import { stopOnSignal } from './stop-on-signal.js'

/**
 * The API process: `node dist/processes/api-process.js` with DATABASE_URL and REDIS_URL set. Prints one
 * JSON line `{"listening": url}` on stdout once it serves; SIGTERM or SIGINT closes it cleanly.
 */
const context = await createApiContext(readApiConfig(process.env))
const app = await buildServer(context)
const url = await app.listen({ port: context.config.PORT, host: context.config.HOST })
process.stdout.write(`${JSON.stringify({ listening: url, instance: context.config.INSTANCE_NAME })}\n`)

stopOnSignal(async () => {
  await app.close()
  await context.close()
})
