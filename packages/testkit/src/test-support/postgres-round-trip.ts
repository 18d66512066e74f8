// Run as a child process (possibly as another user): boots an embedded PostgreSQL, queries it, stops it,
// and prints what it saw as JSON, so a test can check the harness under a different uid.
import { existsSync } from 'node:fs'
import pg from 'pg'
import { startPostgres } from '../postgres.js'

const server = await startPostgres({ allowExternal: false })
const client = new pg.Client({ connectionString: server.url })
await client.connect()
const { rows } = await client.query<{ answer: number }>('SELECT 6 * 7 AS answer')
await client.end()
await server.stop()
console.log(JSON.stringify({ answer: rows[0]?.answer, directoryLeft: existsSync(server.directory ?? '') }))
