import { z } from 'zod'
import type { Database } from '../database/database.js'
import { openDatabase } from '../database/open-database.js'
import { type DatabaseOptions, databaseOptionsShape } from '../database/postgres-connection.js'
import { PostgresError } from '../errors.js'
import { identifierSchema, parseOptions } from '../parse-options.js'

/** How a slot is doing: whether it is read, and how much WAL it keeps the server from recycling. */
export interface ReplicationSlotHealth {
  slot: string
  /** False when the slot does not exist (dropped, or never created). */
  exists: boolean
  /** A consumer is connected and streaming from it now. */
  active: boolean
  /** WAL bytes between the server's current position and what the consumer confirmed: what it holds. */
  lagBytes: number
  /**
   * PostgreSQL's own judgement (`pg_replication_slots.wal_status`): `reserved`/`extended` are fine,
   * `unreserved` means the next checkpoint may remove WAL it needs, `lost` means it did (the slot is dead:
   * drop it and let the listener create a new one, then clear the caches it fed).
   */
  walStatus: string | undefined
  /** Bytes the slot may still fall behind before `max_slot_wal_keep_size` invalidates it; undefined when unlimited. */
  safeWalBytes: number | undefined
  /** Within `maxLagBytes`, and neither `unreserved` nor `lost`. */
  healthy: boolean
}

export interface ReplicationSlotOptions extends DatabaseOptions {
  slot: string
}

export interface SlotHealthOptions extends ReplicationSlotOptions {
  /** Lag above which the slot is reported unhealthy. Default 256 MiB. */
  maxLagBytes?: number
}

const slotOptions = z.object({ ...databaseOptionsShape, slot: identifierSchema })
const healthOptions = slotOptions.extend({
  maxLagBytes: z
    .number()
    .int()
    .positive()
    .default(256 * 1024 * 1024),
})

/**
 * Reports how much WAL a slot holds. A slot nobody reads keeps every WAL segment since its consumer's
 * last confirmation, until the disk fills: alert on `healthy: false`, set `max_slot_wal_keep_size` on the
 * server as the backstop, and `dropReplicationSlot` a consumer that is gone for good.
 */
export async function replicationSlotHealth(options: SlotHealthOptions): Promise<ReplicationSlotHealth> {
  const parsed = parseOptions(healthOptions, options, 'SlotHealthOptions')
  return withDatabase(parsed, async (database) => {
    const { rows } = await database.query<{
      active: boolean
      lag: string | null
      wal_status: string | null
      safe_wal_size: string | null
    }>(
      `SELECT active, pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::text AS lag,
              wal_status, safe_wal_size::text
       FROM pg_replication_slots WHERE slot_name = $1`,
      [parsed.slot],
    )
    const row = rows[0]
    if (row === undefined) {
      return {
        slot: parsed.slot,
        exists: false,
        active: false,
        lagBytes: 0,
        walStatus: undefined,
        safeWalBytes: undefined,
        healthy: false,
      }
    }
    const lagBytes = Number(row.lag ?? 0)
    const walStatus = row.wal_status ?? undefined
    return {
      slot: parsed.slot,
      exists: true,
      active: row.active,
      lagBytes,
      walStatus,
      safeWalBytes: row.safe_wal_size === null ? undefined : Number(row.safe_wal_size),
      healthy: lagBytes <= parsed.maxLagBytes && walStatus !== 'unreserved' && walStatus !== 'lost',
    }
  })
}

/**
 * Drops a slot, releasing the WAL it holds: for a consumer that is gone for good. Resolves with whether
 * there was one. A slot in use is refused (`PG_ERR_REPLICATION_UNAVAILABLE`): stop its listener first.
 */
export async function dropReplicationSlot(options: ReplicationSlotOptions): Promise<boolean> {
  const parsed = parseOptions(slotOptions, options, 'ReplicationSlotOptions')
  return withDatabase(parsed, async (database) => {
    try {
      const { rowCount } = await database.query(
        'SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1',
        [parsed.slot],
      )
      return (rowCount ?? 0) > 0
    } catch (error) {
      // 55006 object_in_use: a consumer is streaming from it.
      if ((error as { code?: string }).code === '55006') {
        throw new PostgresError(
          'PG_ERR_REPLICATION_UNAVAILABLE',
          `replication slot ${parsed.slot} is in use`,
          {
            cause: error,
            details: { database: database.name, slot: parsed.slot },
          },
        )
      }
      throw error
    }
  })
}

/**
 * Creates the slot (`pgoutput`) unless it exists, after checking that the server can decode logically.
 * Resolves with whether it created it.
 */
export async function ensureReplicationSlot(database: Database, slot: string): Promise<boolean> {
  const { rows: settings } = await database.query<{ wal_level: string }>(
    "SELECT current_setting('wal_level') AS wal_level",
  )
  if (settings[0]?.wal_level !== 'logical') {
    throw new PostgresError(
      'PG_ERR_REPLICATION_UNAVAILABLE',
      `${database.name} runs with wal_level=${settings[0]?.wal_level}; logical replication needs wal_level=logical (a server restart)`,
      { details: { database: database.name, walLevel: settings[0]?.wal_level } },
    )
  }
  const { rows } = await database.query<{ plugin: string; database: string }>(
    'SELECT plugin, database FROM pg_replication_slots WHERE slot_name = $1',
    [slot],
  )
  const existing = rows[0]
  if (existing !== undefined) {
    if (existing.plugin !== 'pgoutput') {
      throw new PostgresError(
        'PG_ERR_REPLICATION_UNAVAILABLE',
        `replication slot ${slot} uses the ${existing.plugin} plugin, not pgoutput`,
        { details: { database: database.name, slot } },
      )
    }
    return false
  }
  try {
    await database.query("SELECT pg_create_logical_replication_slot($1, 'pgoutput')", [slot])
    return true
  } catch (error) {
    // 42710 duplicate_object: another process created it first, which is as good.
    if ((error as { code?: string }).code === '42710') return false
    throw error
  }
}

async function withDatabase<T>(
  options: z.output<typeof slotOptions>,
  work: (database: Database) => Promise<T>,
): Promise<T> {
  const database = openDatabase(options, 'cachesaga-slot-admin')
  try {
    return await work(database)
  } finally {
    await database.close()
  }
}
