// One instance of a contender in its own process, for the propagation suite. It warms its memory tier on
// request and reports the wall-clock time at which it applied the next remote invalidation.
import { performance } from 'node:perf_hooks'
import { CONTENDERS } from '../contenders.js'

const [name, redisUrl, namespace] = process.argv.slice(2)
const factory = name ? CONTENDERS[name] : undefined
if (!factory || !redisUrl || !namespace) {
  console.error('usage: propagation-child <contender> <redisUrl> <namespace>')
  process.exit(2)
}
const cache = factory({ redisUrl, namespace, l1: true, bus: true })
let armed = false
cache.onRemoteInvalidation?.(() => {
  if (!armed) return
  armed = false
  process.send?.({ type: 'invalidated', at: performance.timeOrigin + performance.now() })
})

process.on('message', async (message: { type: string; key?: string }) => {
  if (message.type === 'warm' && message.key) {
    await cache.get(message.key)
    process.send?.({ type: 'warmed' })
  } else if (message.type === 'arm') {
    armed = true
    process.send?.({ type: 'armed' })
  } else if (message.type === 'exit') {
    await cache.close()
    process.exit(0)
  }
})
process.send?.({ type: 'ready' })
