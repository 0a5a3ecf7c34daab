import pg from 'pg'
import { StoreUnavailableError } from '../../errors.js'

export interface PostgresOptions {
  /** Connections at most (DATABASE_POOL_MAX, default 10). */
  max?: number
  /** Per statement, server side and client side (default 2000 ms): a request never waits longer on PostgreSQL. */
  statementTimeoutMs?: number
  /** Said once when the connection is lost and once when it is back (never with a URL: it may hold a password). */
  onConnectionChange?: (up: boolean, err?: Error) => void
}

/** What the drivers run statements through; also the shape of a transaction. */
export interface Queryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow> (text: string, values?: unknown[]): Promise<pg.QueryResult<R>>
}

export interface Postgres extends Queryable {
  readonly pool: pg.Pool
  /** BEGIN … COMMIT on one connection; ROLLBACK when `fn` throws. */
  transaction<T> (fn: (tx: Queryable) => Promise<T>): Promise<T>
  ping (): Promise<void>
  close (): Promise<void>
}

// Node's socket errors, and SQLSTATE classes that mean "PostgreSQL is not there right now":
// 08 connection exception, 57P01-03 shut down / starting, 53300 too many connections,
// 57014 canceled by statement_timeout (a server too slow to answer is unavailable too).
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN'])
const SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300', '57014'])
// pg and pg-pool say these without a code.
const MESSAGES = /Connection terminated|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error|Connection ended/i

/** True when `err` says PostgreSQL could not be reached or did not answer in time (not a bad statement). */
export function isConnectionFailure (err: unknown): boolean {
  if (!(err instanceof Error)) return false
  const code = (err as { code?: unknown }).code
  if (typeof code === 'string' && (SOCKET_CODES.has(code) || SQLSTATES.has(code) || code.startsWith('08'))) return true
  return MESSAGES.test(err.message)
}

/** Connection failures become StoreUnavailableError (503 STORE_UNAVAILABLE); anything else is a bug and passes as is. */
export function unavailable (err: unknown): unknown {
  if (!isConnectionFailure(err)) return err
  const wrapped = new StoreUnavailableError()
  wrapped.cause = err
  return wrapped
}

/**
 * A pg Pool for the store. A failed connection is dropped by the pool and the next
 * statement opens a new one, so the service recovers by itself when PostgreSQL is back;
 * meanwhile every statement fails within the timeout as StoreUnavailableError.
 *
 * @example
 * const pg = createPostgres(config.databaseUrl, { max: config.databasePoolMax })
 * const { rows } = await pg.query('SELECT id FROM ac_users WHERE mobile = $1', [mobile])
 */
export function createPostgres (url: string, opts: PostgresOptions = {}): Postgres {
  const timeout = opts.statementTimeoutMs ?? 2000
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.max ?? 10,
    connectionTimeoutMillis: 2000,
    idleTimeoutMillis: 30_000,
    // The server cancels first; the client-side bound covers a server that no longer answers at all.
    statement_timeout: timeout,
    query_timeout: timeout + 500,
    idle_in_transaction_session_timeout: 10_000,
    keepAlive: true,
    application_name: 'authcenter'
  })
  let down = false
  const lost = (err: Error): void => {
    if (down || !isConnectionFailure(err)) return
    down = true
    opts.onConnectionChange?.(false, err)
  }
  const back = (): void => {
    if (!down) return
    down = false
    opts.onConnectionChange?.(true)
  }
  // An idle connection the server closed: without a listener the process would crash.
  pool.on('error', lost)

  async function run<T> (op: () => Promise<T>): Promise<T> {
    try {
      const out = await op()
      back()
      return out
    } catch (err) {
      if (err instanceof Error) lost(err)
      throw unavailable(err)
    }
  }

  return {
    pool,
    async query<R extends pg.QueryResultRow = pg.QueryResultRow> (text: string, values?: unknown[]) {
      return await run(async () => await pool.query<R>(text, values))
    },
    async transaction (fn) {
      return await run(async () => {
        const client = await pool.connect()
        let broken: Error | undefined
        try {
          await client.query('BEGIN')
          const out = await fn({ query: async (text, values) => await client.query(text, values) })
          await client.query('COMMIT')
          return out
        } catch (err) {
          if (isConnectionFailure(err)) broken = err as Error
          else await client.query('ROLLBACK').catch((e: Error) => { broken = e })
          throw err
        } finally {
          // A connection that failed mid-transaction is destroyed, not returned to the pool.
          client.release(broken ?? false)
        }
      })
    },
    async ping () { await run(async () => await pool.query('SELECT 1')) },
    async close () { await pool.end() }
  }
}
