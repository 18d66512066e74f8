import { z } from 'zod'

/**
 * What a `redis-server` keeps on disk, and so what a `restart()` after `kill()` brings back:
 * - `'none'`: nothing; a restart always comes back empty.
 * - `'rdb'`: RDB snapshots, taken only when the test calls `save()` (never on a timer, so a test knows
 *   exactly what is on disk); a restart comes back as of the last `save()`.
 * - `'aof'`: an append-only file with `appendfsync everysec`; a restart comes back with every write
 *   acknowledged before the kill.
 */
export type RedisPersistence = 'none' | 'rdb' | 'aof'

/** A named ACL user, created with the server (and re-created by every restart). */
export interface RedisAclUser {
  /** User name. `default` (see `password`) and the harness's own `testkit-admin` are taken. */
  name: string
  /** Its password; any characters (URLs encode it). */
  password: string
  /**
   * ACL rules, applied after `reset on >password`, so the user starts with no keys, channels or commands:
   * e.g. `['~cs:{ns}:*', '&cs:{ns}:*', '+@read', '+@write', '+@connection']`. Redis checks them at start.
   */
  rules: string[]
}

/** Options every harness-owned `redis-server` takes, alone (`startRedis`) or as a cluster node. */
export interface RedisNodeOptions {
  /** What the server keeps on disk; see `RedisPersistence`. Default `'none'`. */
  persistence?: RedisPersistence
  /** A password for the `default` user, which otherwise needs none. It keeps all rights. */
  password?: string
  /** Named ACL users with their own passwords and rules. */
  users?: RedisAclUser[]
  /** Extra `redis-server` arguments, after the harness's own (so they win), e.g. `['--maxmemory', '10mb']`. */
  args?: string[]
}

export const ADMIN_USER = 'testkit-admin'

const userName = z
  .string()
  .regex(/^\S+$/, 'expected a user name without spaces')
  .refine(
    (name) => name !== 'default' && name !== ADMIN_USER,
    'the names default and testkit-admin are taken',
  )

export const aclUserSchema = z.strictObject({
  name: userName,
  password: z.string().min(1),
  rules: z.array(z.string().min(1)),
})

export const nodeOptionsShape = {
  persistence: z.enum(['none', 'rdb', 'aof']).default('none'),
  password: z.string().min(1).optional(),
  users: z
    .array(aclUserSchema)
    .default([])
    .refine(
      (users) => new Set(users.map(({ name }) => name)).size === users.length,
      'expected each user name once',
    ),
  args: z.array(z.string()).default([]),
}

/** Whether the options ask for something only a harness-owned server can give (so `REDIS_URL` cannot stand in). */
export function needsOwnedServer(options: z.output<z.ZodObject<typeof nodeOptionsShape>>): boolean {
  return options.persistence !== 'none' || options.password !== undefined || options.users.length > 0
}
