import type { Postgres } from './postgres/pool.js'
import type { RedisClient } from './redis/client.js'
import { scanClients } from './clients/redis-scan.js'
import { scanConsents } from './oauth/redis-scan.js'
import { scanUsers } from './users/redis-scan.js'

export interface CopyCount { copied: number, alreadyThere: number }

export interface CopyReport {
  users: CopyCount
  clients: CopyCount
  consents: CopyCount
  keys: CopyCount
  /** Users skipped because PostgreSQL has another account under the same mobile. */
  conflicts: Array<{ userId: string, existingUserId: string }>
}

/**
 * Copies the durable concerns (users, admin-registered clients, consents, the key set)
 * from a Redis store into a migrated PostgreSQL one. Every insert is ON CONFLICT DO
 * NOTHING: a row already in PostgreSQL may be newer than Redis, so it is never
 * overwritten, and a second run copies 0. Hot state (sessions, codes, counters) is not
 * copied: users log in again, as after losing Redis.
 */
export async function copyRedisToPostgres (redis: RedisClient, pg: Postgres, opts: { prefix?: string, keysKey?: string } = {}): Promise<CopyReport> {
  const report: CopyReport = { users: zero(), clients: zero(), consents: zero(), keys: zero(), conflicts: [] }

  for await (const batch of scanUsers(redis, opts.prefix)) {
    for (const u of batch) {
      // No conflict target: a clash on the id or on the mobile both leave PostgreSQL's row.
      const { rowCount } = await pg.query(
        `INSERT INTO ac_users (id, mobile, password_hash, created_at, password_changed_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT DO NOTHING`,
        [u.id, u.mobile, u.passwordHash ?? null, u.createdAt, u.passwordChangedAt ?? null])
      if (rowCount === 1) { report.users.copied++; continue }
      const { rows } = await pg.query<{ id: string }>('SELECT id FROM ac_users WHERE mobile = $1', [u.mobile])
      const existing = rows[0]?.id
      if (existing !== undefined && existing !== u.id) report.conflicts.push({ userId: u.id, existingUserId: existing })
      else report.users.alreadyThere++
    }
  }

  for await (const batch of scanClients(redis, opts.prefix)) {
    for (const c of batch) {
      const { rowCount } = await pg.query(
        'INSERT INTO ac_clients (client_id, created_at, registration) VALUES ($1, $2, $3) ON CONFLICT (client_id) DO NOTHING',
        [c.clientId, c.createdAt, JSON.stringify(c.registration)])
      count(report.clients, rowCount)
    }
  }

  for await (const batch of scanConsents(redis, opts.prefix)) {
    for (const { userId, consent } of batch) {
      const { rowCount } = await pg.query(
        `INSERT INTO ac_consents (user_id, client_id, scope, granted_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (user_id, client_id) DO NOTHING`,
        [userId, consent.clientId, consent.scope, consent.grantedAt])
      count(report.consents, rowCount)
    }
  }

  // The key set goes as the sealed document it is, never opened: the command needs no
  // KEK to copy it, and PostgreSQL's key store opens it with the same KEKs the service has.
  // The key store's Redis key is `ac:keys` whatever the store prefix (keys/key-stores.ts).
  const sealed = await redis.get(opts.keysKey ?? 'ac:keys')
  if (sealed !== null) {
    const revision = Number((JSON.parse(sealed) as { revision?: unknown }).revision)
    if (!Number.isSafeInteger(revision)) throw new Error('the Redis key set has no readable revision')
    const { rowCount } = await pg.query(
      "INSERT INTO ac_keys (name, revision, sealed) VALUES ('signing', $1, $2) ON CONFLICT (name) DO NOTHING", [revision, sealed])
    count(report.keys, rowCount)
  }
  return report
}

function zero (): CopyCount { return { copied: 0, alreadyThere: 0 } }

function count (c: CopyCount, rowCount: number | null): void {
  if (rowCount === 1) c.copied++
  else c.alreadyThere++
}
