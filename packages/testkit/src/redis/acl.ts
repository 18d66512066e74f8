import { randomBytes } from 'node:crypto'
import { TestkitError } from '../errors.js'
import { ADMIN_USER, type RedisAclUser } from './options.js'

/** What a client sends to log in as one user: ioredis' `username` and `password` options. */
export interface RedisCredentials {
  username?: string
  password?: string
}

/** A user's rules as Redis takes them, from a clean slate, so re-creating a user never keeps old rights. */
const rulesOf = (password: string, rules: readonly string[]) => ['reset', 'on', `>${password}`, ...rules]

/**
 * The users of one server, or of every node of one cluster: the `default` user (open, or with a password),
 * the named users of the options and of `createUser()`, and the harness's own admin. The admin has every
 * right and a random password, so the readiness PING, fault controls and replication keep working whatever
 * the test does to the other users.
 */
export class AclUsers {
  readonly admin: Required<RedisCredentials> = {
    username: ADMIN_USER,
    password: randomBytes(16).toString('hex'),
  }
  private readonly named = new Map<string, RedisAclUser>()

  constructor(
    private readonly defaultPassword: string | undefined,
    users: readonly RedisAclUser[],
  ) {
    for (const user of users) this.add(user)
  }

  /** Remembers a new user; a later `serverArgs()` creates it too. */
  add(user: RedisAclUser): void {
    if (this.named.has(user.name)) {
      throw new TestkitError('TESTKIT_ERR_INVALID_INPUT', `user ${user.name} exists already`, {
        details: { user: user.name },
      })
    }
    this.named.set(user.name, { ...user, rules: [...user.rules] })
  }

  /** `redis-server` arguments that create every user as the process starts, before it accepts a client. */
  serverArgs(): string[] {
    const args = ['--user', this.admin.username, ...rulesOf(this.admin.password, ['~*', '&*', '+@all'])]
    for (const user of this.named.values())
      args.push('--user', user.name, ...rulesOf(user.password, user.rules))
    if (this.defaultPassword !== undefined) args.push('--requirepass', this.defaultPassword)
    return args
  }

  /** Arguments of `ACL SETUSER` that create `user` on a running server, as `serverArgs()` would. */
  setUserArgs(user: RedisAclUser): string[] {
    return [user.name, ...rulesOf(user.password, user.rules)]
  }

  credentialsFor(name: string): RedisCredentials {
    if (name === 'default')
      return this.defaultPassword === undefined ? {} : { password: this.defaultPassword }
    const user = this.named.get(name)
    if (!user) {
      const known = ['default', ...this.named.keys()].join(', ')
      throw new TestkitError(
        'TESTKIT_ERR_INVALID_INPUT',
        `no user ${name} on this server (users: ${known})`,
        {
          details: { user: name },
        },
      )
    }
    return { username: user.name, password: user.password }
  }

  urlFor(host: string, port: number, name: string): string {
    const { username = '', password } = this.credentialsFor(name)
    const login =
      password === undefined ? '' : `${encodeURIComponent(username)}:${encodeURIComponent(password)}@`
    return `redis://${login}${host}:${port}`
  }
}
