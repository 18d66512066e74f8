import { DEFAULT_QUEUE_PREFIX } from '@cachesaga/queue'
import { getFreePort } from '@cachesaga/testkit'
import { ApiClient } from './api-client.js'
import { APP_DIRECTORY, appModule, type StackProcess, spawnNode, stopProcess } from './child-process.js'
import { newStackSecrets, type StackSecrets, secretsEnv } from './stack-secrets.js'

/** The worker bin of @cachesaga/queue, through this app's dependency link. */
const WORKER_BIN = `${APP_DIRECTORY}node_modules/@cachesaga/queue/bin/cachesaga-worker.js`

/**
 * The API's rate limits for a stack driven by a load generator or a test, where one address stands for many
 * clients: raised the way a load-test environment would configure them. The limiter still runs and counts every
 * request in Redis, so its cost is in what the load command measures.
 */
export const LOAD_GENERATOR_LIMITS: NodeJS.ProcessEnv = {
  RATE_LIMIT_READS: '100000000',
  RATE_LIMIT_BOOKINGS: '100000000',
  RATE_LIMIT_WEBHOOKS: '100000000',
}

/** The Redis every process uses: one server, or a cluster named by its nodes. */
export type StackRedis = { url: string } | { clusterNodes: readonly { host: string; port: number }[] }

/**
 * `env` with exactly one of `REDIS_URL` and `REDIS_CLUSTER_NODES`, naming `redis` to a process of the stack
 * (and to `cachesaga-worker`, which reads the same two).
 */
export function withRedisEnv(env: NodeJS.ProcessEnv, redis: StackRedis): NodeJS.ProcessEnv {
  const { REDIS_URL: _, REDIS_CLUSTER_NODES: __, ...rest } = env
  return 'url' in redis
    ? { ...rest, REDIS_URL: redis.url }
    : {
        ...rest,
        REDIS_CLUSTER_NODES: redis.clusterNodes.map((node) => `${node.host}:${node.port}`).join(','),
      }
}

export interface StackOptions {
  databaseUrl: string
  redis: StackRedis
  /** The CalDAV calendar home the API and the workers write and sync the staff calendars on. */
  caldavUrl: string
  /** How many API processes (each with its own L1 and change listener). */
  apis: number
  /** How many `cachesaga-worker` processes. */
  workers: number
  /** Extra flags for every worker, e.g. shorter stalled-job settings in tests. */
  workerFlags?: string[]
  /** Extra environment of every API process, e.g. `LOAD_GENERATOR_LIMITS`. */
  apiEnv?: NodeJS.ProcessEnv
  queuePrefix?: string
  log: (line: string) => void
}

interface ApiProcess extends StackProcess {
  url: string
}

/**
 * The app's processes: API servers, the outbox relay and queue workers, each a separate `node`. The API
 * instances get credentials made for this stack (`secrets`): the operator's and the viewer's passwords and the
 * webhook secret.
 */
export class ProcessStack {
  readonly secrets: StackSecrets = newStackSecrets()
  readonly apis: ApiProcess[] = []
  readonly workers: StackProcess[] = []
  private relay: StackProcess | undefined
  private workerCount = 0

  private constructor(private readonly options: StackOptions) {}

  static async start(options: StackOptions): Promise<ProcessStack> {
    const stack = new ProcessStack(options)
    try {
      await Promise.all([
        ...Array.from({ length: options.apis }, (_, index) => stack.startApi(`api-${index + 1}`)),
        stack.startRelay(),
        ...Array.from({ length: options.workers }, () => stack.startWorker()),
      ])
    } catch (error) {
      await stack.stop()
      throw error
    }
    stack.apis.sort((a, b) => a.name.localeCompare(b.name))
    stack.workers.sort((a, b) => a.name.localeCompare(b.name))
    return stack
  }

  /** A client of API instance `index` holding this stack's credentials. */
  client(index: number): ApiClient {
    const api = this.apis[index]
    if (api === undefined)
      throw new Error(`the stack has ${this.apis.length} API instance(s), not ${index + 1}`)
    return new ApiClient(api.url, this.secrets)
  }

  private get env(): NodeJS.ProcessEnv {
    return {
      ...withRedisEnv(process.env, this.options.redis),
      DATABASE_URL: this.options.databaseUrl,
      CALDAV_URL: this.options.caldavUrl,
      QUEUE_PREFIX: this.options.queuePrefix ?? DEFAULT_QUEUE_PREFIX,
    }
  }

  private async startApi(name: string): Promise<void> {
    const { file, nodeArgs } = appModule('processes/api-process')
    const port = await getFreePort()
    const started = await spawnNode(
      {
        name,
        script: file,
        nodeArgs,
        env: {
          ...this.env,
          ...secretsEnv(this.secrets),
          ...this.options.apiEnv,
          PORT: String(port),
          INSTANCE_NAME: name,
        },
        log: this.options.log,
      },
      (line) => line.includes('"listening"'),
    )
    this.apis.push({ ...started, url: (JSON.parse(started.readyLine) as { listening: string }).listening })
  }

  private async startRelay(): Promise<void> {
    const { file, nodeArgs } = appModule('processes/relay-process')
    this.relay = await spawnNode(
      { name: 'relay', script: file, nodeArgs, env: this.env, log: this.options.log },
      (line) => line.includes('"relaying"'),
    )
  }

  /** Starts one more worker process (also after one was killed, to recover its jobs). */
  async startWorker(): Promise<StackProcess> {
    const { file: handlers, nodeArgs } = appModule('worker/handlers')
    const worker = await spawnNode(
      {
        name: `worker-${++this.workerCount}`,
        script: WORKER_BIN,
        nodeArgs,
        args: [
          '--handlers',
          handlers,
          '--concurrency',
          '4',
          '--prefix',
          this.options.queuePrefix ?? DEFAULT_QUEUE_PREFIX,
          ...(this.options.workerFlags ?? []),
        ],
        env: this.env,
        log: this.options.log,
      },
      (line) => line.includes('worker ready'),
    )
    this.workers.push(worker)
    return worker
  }

  /** Stops every process (SIGTERM, then SIGKILL after a grace period) and reports how each ended. */
  async stop(): Promise<Record<string, number | string>> {
    const all = [...this.apis, ...(this.relay ? [this.relay] : []), ...this.workers]
    const codes = await Promise.all(all.map((child) => stopProcess(child)))
    return Object.fromEntries(all.map((child, index) => [child.name, codes[index]!]))
  }
}
