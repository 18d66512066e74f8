import { copyFileSync, existsSync, linkSync, readdirSync, renameSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import type { RedisPersistence } from './options.js'

/** A copy of a server's dataset at one moment (an RDB file the harness keeps until the server stops). */
export interface RedisSnapshot {
  /** The RDB file. */
  readonly file: string
  /** When the server wrote it. */
  readonly takenAt: Date
}

/** Where `restart()` brings the dataset back from; see `RestartOptions`. */
export type RestartFrom = 'empty' | 'disk' | RedisSnapshot

/** The name Redis gives its RDB file; the harness passes it explicitly so the two never disagree. */
export const RDB_FILE = 'dump.rdb'
/** Cluster membership, which survives every kind of restart: a node's identity is not its data. */
export const CLUSTER_CONFIG_FILE = 'nodes.conf'

/**
 * `redis-server` arguments for a persistence mode. RDB save points are always off: under `'rdb'` the
 * dataset reaches the disk only when the test calls `save()`, so what a restart brings back is known.
 */
export function persistenceArgs(persistence: RedisPersistence): string[] {
  const base = ['--dbfilename', RDB_FILE, '--save', '']
  if (persistence === 'aof') return [...base, '--appendonly', 'yes', '--appendfsync', 'everysec']
  return [...base, '--appendonly', 'no']
}

/** Deletes every data file (RDB, AOF, temporary files) in `dir`, keeping the cluster membership. */
export function clearDataset(dir: string): void {
  for (const entry of readdirSync(dir)) {
    if (entry !== CLUSTER_CONFIG_FILE) rmSync(join(dir, entry), { recursive: true, force: true })
  }
}

/** Replaces the dataset in `dir` with `snapshot`, for a server that is not running. */
export function installSnapshot(dir: string, snapshot: RedisSnapshot): void {
  clearDataset(dir)
  copyFileSync(snapshot.file, join(dir, RDB_FILE))
}

/**
 * Runs `save` (which makes Redis write `dir/dump.rdb`) and moves what it wrote to `target`, leaving the
 * server's own `dump.rdb` as it was before: taking a snapshot never changes what a restart from disk loads.
 */
export async function saveAside(dir: string, target: string, save: () => Promise<void>): Promise<void> {
  const dump = join(dir, RDB_FILE)
  const kept = `${target}.kept`
  // A hard link keeps the old file's contents: SAVE writes a temporary file and renames it over `dump`.
  const hadDump = existsSync(dump)
  if (hadDump) linkSync(dump, kept)
  try {
    await save()
    renameSync(dump, target)
  } finally {
    if (hadDump) renameSync(kept, dump)
  }
}
