import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, extname, join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { errorCode } from '@cachesaga/common'
import { QueueError } from '../errors.js'
import { assertHandlers, type WorkerHandlers } from '../worker/handlers.js'

const TYPESCRIPT = new Set(['.ts', '.mts', '.cts', '.tsx'])

/**
 * Imports the handlers module and checks its default export. A TypeScript module runs when this Node can already load
 * it (started with `--import tsx`); otherwise through tsx when the application has it installed, found from the
 * module's folder or the working directory. Without tsx the error says what to do instead.
 */
export async function loadHandlers(modulePath: string): Promise<WorkerHandlers> {
  const absolute = resolve(modulePath)
  if (!existsSync(absolute)) {
    throw new QueueError('CSQ_ERR_INVALID_HANDLERS', `${modulePath}: no such file`, {
      details: { module: modulePath },
    })
  }
  const url = pathToFileURL(absolute).href
  let loaded: { default?: unknown }
  try {
    loaded = await import(url)
  } catch (error) {
    if (!TYPESCRIPT.has(extname(absolute)) || errorCode(error) !== 'ERR_UNKNOWN_FILE_EXTENSION') throw error
    await registerTsx(modulePath, absolute)
    // A new URL: Node remembers the failed attempt under the old one.
    loaded = await import(`${url}?with-tsx`)
  }
  assertHandlers(loaded.default, modulePath)
  return loaded.default
}

async function registerTsx(modulePath: string, absolute: string): Promise<void> {
  const places = [dirname(absolute), process.cwd()]
  for (const place of places) {
    const api = tsxEsmApi(place)
    if (api === undefined) continue
    const { register } = (await import(pathToFileURL(api).href)) as { register: () => unknown }
    register()
    return
  }
  throw new QueueError(
    'CSQ_ERR_INVALID_HANDLERS',
    `${modulePath} is TypeScript, and tsx (which would load it) is not installed where the module or the working ` +
      'directory can find it: add it to the application (npm install --save-dev tsx), compile the module to ' +
      'JavaScript, or start the worker as node --import tsx $(which cachesaga-worker) ...',
    { details: { module: modulePath } },
  )
}

/** tsx's ESM API (`tsx/esm/api`, its `import` entry) as seen from `place`; undefined when tsx is not there. */
function tsxEsmApi(place: string): string | undefined {
  let manifest: string
  try {
    manifest = createRequire(join(place, 'noop.js')).resolve('tsx/package.json')
  } catch {
    return undefined
  }
  const { exports } = JSON.parse(readFileSync(manifest, 'utf8')) as {
    exports?: Record<string, { import?: { default?: string } | string }>
  }
  const entry = exports?.['./esm/api']?.import
  const file = typeof entry === 'string' ? entry : entry?.default
  return file === undefined ? undefined : join(dirname(manifest), file)
}
