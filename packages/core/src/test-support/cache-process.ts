// A cache instance in its own process, driven line by line over stdin/stdout by cache-processes.ts.
// Run as: node --import tsx cache-process.ts (env CACHESAGA_OPTIONS = createCache options as JSON).
import { createInterface } from 'node:readline'
import { Redis } from 'ioredis'
import { createCache } from '../index.js'

interface Request {
  id: number
  op: 'getOrSet' | 'get' | 'delete' | 'stampede' | 'stats'
  key?: string
  value?: string
  /** stampede: concurrent calls; the loader counts itself in Redis at `counter` and takes `loadMs`. */
  count?: number
  counter?: string
  loadMs?: number
}

const options = JSON.parse(process.env.CACHESAGA_OPTIONS ?? '{}')
const cache = createCache(options)
const counterClient = new Redis(options.redis)

async function handle(request: Request): Promise<unknown> {
  const key = request.key ?? ''
  switch (request.op) {
    case 'getOrSet':
      return cache.getOrSet(key, async () => request.value)
    case 'get':
      return cache.get(key)
    case 'delete':
      return cache.delete(key)
    case 'stats':
      return cache.stats()
    case 'stampede': {
      const load = async () => {
        await counterClient.incr(request.counter!)
        await new Promise((resolve) => setTimeout(resolve, request.loadMs ?? 0))
        return request.value
      }
      const answers = await Promise.all(
        Array.from({ length: request.count ?? 1 }, () => cache.getOrSet(key, load)),
      )
      return [...new Set(answers)]
    }
  }
}

await cache.ready()
process.stdout.write(`${JSON.stringify({ ready: true })}\n`)
for await (const line of createInterface({ input: process.stdin })) {
  const request = JSON.parse(line) as Request
  try {
    const result = await handle(request)
    process.stdout.write(`${JSON.stringify({ id: request.id, result: result ?? null })}\n`)
  } catch (error) {
    process.stdout.write(`${JSON.stringify({ id: request.id, error: String(error) })}\n`)
  }
}
await cache.close()
counterClient.disconnect()
