import type pg from 'pg'

/** `deadlock_detected` and `serialization_failure`: PostgreSQL aborted the transaction and asks for a retry. */
const RETRYABLE_CODES = new Set(['40P01', '40001'])
const ATTEMPTS = 5

/**
 * Runs `work` in one transaction on one pooled client: committed if it resolves, rolled back if it throws.
 * A transaction PostgreSQL aborted to break a deadlock or a serialization conflict runs again from the
 * start (as PostgreSQL asks), so `work` must be safe to repeat.
 */
export async function withTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await runOnce(pool, work)
    } catch (error) {
      const code = (error as { code?: unknown }).code
      if (attempt >= ATTEMPTS || typeof code !== 'string' || !RETRYABLE_CODES.has(code)) throw error
    }
  }
}

async function runOnce<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect()
  // Without a listener, a connection that dies while `work` awaits something else (a publish, say) would
  // throw from an event handler and take the process down; the next query reports the loss instead.
  const ignoreUntilNextQuery = () => {}
  client.on('error', ignoreUntilNextQuery)
  try {
    await client.query('BEGIN')
    const result = await work(client)
    await client.query('COMMIT')
    client.off('error', ignoreUntilNextQuery)
    client.release()
    return result
  } catch (error) {
    // A client whose connection died cannot roll back; destroy it instead of returning it to the pool.
    const rolledBack = await client.query('ROLLBACK').then(
      () => true,
      () => false,
    )
    client.off('error', ignoreUntilNextQuery)
    client.release(rolledBack ? undefined : true)
    throw error
  }
}
