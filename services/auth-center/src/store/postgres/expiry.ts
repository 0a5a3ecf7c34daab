/**
 * Expiry for the PostgreSQL drivers' short-lived rows. Deadlines are set and checked
 * by the database's clock, not the replica's, so replicas with skewed clocks agree (as
 * they do on Redis TTLs). statement_timestamp() is fixed for one statement, so a
 * statement that sets and checks a deadline sees one `now`.
 */
export const DB_NOW_MS = '(extract(epoch from statement_timestamp()) * 1000)::bigint'

/**
 * Runs `prune` in the background once every `every` calls of the returned function:
 * expired rows are ignored on read anyway, this only keeps the tables from growing.
 * A failure leaves the rows for next time; it never reaches a request.
 */
export function pruneEvery (every: number, prune: () => Promise<unknown>): () => void {
  let calls = 0
  let running = false
  return () => {
    calls += 1
    if (calls % every !== 0 || running) return
    running = true
    prune().catch(() => {}).finally(() => { running = false })
  }
}
