import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { z } from 'zod'
import { TestkitError } from './errors.js'
import { eventually } from './eventually.js'
import { getFreePort } from './free-port.js'
import { parseInput } from './parse-input.js'

export interface StartRadicaleOptions {
  /** Port to bind; a free one is chosen when omitted. */
  port?: number
}

const optionsSchema = z.strictObject({ port: z.int().min(1).max(65_535).optional() })

/** Python starts slowly on a busy machine; Radicale itself is ready as soon as it listens. */
const START_TIMEOUT_MS = 20_000

/** A private Radicale CalDAV server for one test file (or the demo). */
export interface RadicaleServer {
  readonly host: string
  readonly port: number
  /** `http://127.0.0.1:<port>/`. Any user name logs in (`auth = none`); its home is `/<user>/`. */
  readonly url: string
  /** The folder Radicale keeps its collections in (removed by `stop()`). */
  readonly storageFolder: string
  /** SIGKILL the server; the collections stay on disk. */
  kill(): Promise<void>
  /** Start it again on the same port and storage after `kill()`. */
  restart(): Promise<void>
  /**
   * Deletes every sync token the server issued, as its `max_sync_token_age` expiry does: a client that
   * presents an old token after the collection changed gets 403 with the `valid-sync-token` precondition.
   */
  forgetSyncTokens(): void
  /** Stops the server and removes its folder. Safe to call twice. */
  stop(): Promise<void>
}

let binaryChecked = false

/** Checks once per process that `radicale` runs from PATH, so a missing binary fails with advice, not ENOENT. */
function requireRadicale(): string {
  if (binaryChecked) return 'radicale'
  const probe = spawnSync('radicale', ['--version'], { encoding: 'utf8' })
  if (probe.error || probe.status !== 0) {
    throw new TestkitError(
      'TESTKIT_ERR_BINARY_MISSING',
      'radicale was not found on PATH. Install it (Debian: `apt-get install -y radicale`) or point the ' +
        'demo at a CalDAV server with CALDAV_URL=http://user:password@host:port/user/.',
    )
  }
  binaryChecked = true
  return 'radicale'
}

/** True once the server answers HTTP at all (any status). */
async function answers(url: string): Promise<boolean> {
  const response = await fetch(url, { method: 'OPTIONS', signal: AbortSignal.timeout(1_000) })
  await response.body?.cancel()
  return true
}

class OwnedRadicaleServer implements RadicaleServer {
  readonly host = '127.0.0.1'
  private child: ChildProcess | undefined
  private stopped = false

  constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  get url(): string {
    return `http://${this.host}:${this.port}/`
  }

  get storageFolder(): string {
    return join(this.dir, 'collections')
  }

  /** No authentication, every user may read and write everything, no web UI, nothing but warnings logged. */
  private writeConfig(): string {
    const file = join(this.dir, 'config')
    writeFileSync(
      file,
      [
        '[server]',
        `hosts = ${this.host}:${this.port}`,
        '[auth]',
        'type = none',
        '[rights]',
        'type = authenticated',
        '[storage]',
        `filesystem_folder = ${this.storageFolder}`,
        '[web]',
        'type = none',
        '[logging]',
        'level = warning',
        '',
      ].join('\n'),
    )
    return file
  }

  async start(): Promise<void> {
    const child = spawn(requireRadicale(), ['--config', this.writeConfig()], {
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    this.child = child
    let stderr = ''
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    try {
      await eventually(`radicale on port ${this.port} answering HTTP`, () => answers(this.url), {
        timeoutMs: START_TIMEOUT_MS,
        intervalMs: 50,
        giveUp: () =>
          child.exitCode === null ? undefined : new Error(`radicale exited with code ${child.exitCode}`),
      })
    } catch (error) {
      child.kill('SIGKILL')
      throw new TestkitError('TESTKIT_ERR_SERVER_START', `${(error as Error).message}\n${stderr}`, {
        cause: error,
      })
    }
  }

  private async exit(signal: NodeJS.Signals): Promise<void> {
    const child = this.child
    if (!child || child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    child.kill(signal)
    await exited
  }

  async kill(): Promise<void> {
    await this.exit('SIGKILL')
  }

  async restart(): Promise<void> {
    await this.kill()
    await this.start()
  }

  forgetSyncTokens(): void {
    // Radicale keeps each collection's tokens in `<collection>/.Radicale.cache/sync-token/`.
    const entries = readdirSync(this.storageFolder, { recursive: true, encoding: 'utf8' })
    for (const entry of entries.filter((path) => basename(path) === 'sync-token')) {
      rmSync(join(this.storageFolder, entry), { recursive: true, force: true })
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    await this.exit('SIGTERM')
    rmSync(this.dir, { recursive: true, force: true })
  }
}

/**
 * Starts a throwaway Radicale (Debian's `radicale`, a real CalDAV server) on a free loopback port with
 * its storage in a temporary folder and `auth = none`: any user name logs in and owns `/<user>/`.
 */
export async function startRadicale(options: StartRadicaleOptions = {}): Promise<RadicaleServer> {
  const { port } = parseInput(optionsSchema, options, 'startRadicale.options')
  const dir = mkdtempSync(join(tmpdir(), 'cachesaga-radicale-'))
  const server = new OwnedRadicaleServer(port ?? (await getFreePort()), dir)
  try {
    await server.start()
  } catch (error) {
    rmSync(dir, { recursive: true, force: true })
    throw error
  }
  return server
}
