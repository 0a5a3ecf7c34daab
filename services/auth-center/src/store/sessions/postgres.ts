import type pg from 'pg'
import type { Postgres, Queryable } from '../postgres/pool.js'
import { DB_NOW_MS } from '../postgres/expiry.js'
import type { LoggedRevocation, Session, SessionStore } from './sessions.js'
import {
  DEFAULT_DENY_TTL_MS, DEFAULT_FEED_LOG_MAX, assertDenyTtl, denyEntries, denyMessage, epochTag, formatCursor, formatDenyValue, mergeUserEntry, newEpoch,
  parseCursor, parseDenyValue, sessionField, userField, type DenyValue
} from '../denylist.js'
import { REUSED_REASON, byCreatedAt, decideRotation, sessionRetentionMs } from '../rules.js'
import { REVOCATION_CHANNEL, followRevocations } from './postgres-listener.js'

export interface PostgresSessionsOptions {
  /**
   * How long a denylist entry lives after its revocation: the longest access-token
   * lifetime of any client + clock tolerance (default 2 min + 5 s). The app passes it.
   */
  denyTtlMs?: number
  /** About how many revocations the feed log (`ac_revocation_log`) keeps for resuming readers (default 10,000). */
  feedLogMax?: number
}

/** The SessionStore, and the one resource of its own it holds: the LISTEN connection (for composeStore's closeParts). */
export interface PostgresSessions extends SessionStore {
  closeSessions (): Promise<void>
}

const COLUMNS = `id, user_id, client_id, device_name, ip, user_agent, created_at, last_used_at, expires_at, refresh_gen,
  rotated_at, refresh_nonce, revoked_at, revoked_reason, jkt, fgp_hash, scope, kind`

/** A row that still exists: past retain_until it counts as gone (pruneDenylist deletes it). */
const RETAINED = `retain_until > ${DB_NOW_MS}`

interface SessionRow {
  id: string
  user_id: string
  client_id: string
  device_name: string | null
  ip: string | null
  user_agent: string | null
  created_at: string
  last_used_at: string
  expires_at: string
  refresh_gen: number
  rotated_at: string
  refresh_nonce: string
  revoked_at: string | null
  revoked_reason: string | null
  jkt: string | null
  fgp_hash: string | null
  scope: string | null
  kind: string | null
}

/** bigint columns come back as strings (pg's default, exact): every value here is a ms time, well inside 2^53. */
function decodeSession (r: SessionRow): Session {
  const s: Session = {
    id: r.id,
    userId: r.user_id,
    clientId: r.client_id,
    createdAt: Number(r.created_at),
    lastUsedAt: Number(r.last_used_at),
    expiresAt: Number(r.expires_at),
    refreshGen: r.refresh_gen,
    rotatedAt: Number(r.rotated_at),
    refreshNonce: r.refresh_nonce
  }
  // Optional fields stay absent (not null, not undefined), as every driver returns them.
  if (r.device_name !== null) s.deviceName = r.device_name
  if (r.ip !== null) s.ip = r.ip
  if (r.user_agent !== null) s.userAgent = r.user_agent
  if (r.revoked_at !== null) s.revokedAt = Number(r.revoked_at)
  if (r.revoked_reason !== null) s.revokedReason = r.revoked_reason
  if (r.jkt !== null) s.jkt = r.jkt
  if (r.fgp_hash !== null) s.fgpHash = r.fgp_hash
  if (r.scope !== null) s.scope = r.scope
  if (r.kind !== null) s.kind = r.kind as Session['kind']
  return s
}

/**
 * The PostgreSQL SessionStore (tables in migrations/0004_sessions.sql). Every step that
 * decides from a session and changes it is one transaction holding the session's row
 * lock (`SELECT … FOR UPDATE`), deciding with the same rules.ts functions as the memory
 * driver, so 50 concurrent refreshes of one token queue on the row and exactly one rotates.
 *
 * Every revoking step (rotateRefresh's reuse branch, revokeSession, revokeUserSessions)
 * writes, in that same transaction: the session change, the denylist entry, the epoch
 * when missing, the feed log row and `pg_notify('ac_revocations', …)`. NOTIFY is
 * delivered at commit, so no replica hears of a revocation that was rolled back. Lock
 * order is always sessions first, then the feed row, so the steps cannot deadlock.
 *
 * @example
 * const sessions = createPostgresSessions(createPostgres(config.databaseUrl), { denyTtlMs })
 */
export function createPostgresSessions (db: Postgres, opts: PostgresSessionsOptions = {}): PostgresSessions {
  const denyTtlMs = opts.denyTtlMs ?? DEFAULT_DENY_TTL_MS
  assertDenyTtl(denyTtlMs, 'createPostgresSessions')
  const feedLogMax = opts.feedLogMax ?? DEFAULT_FEED_LOG_MAX
  if (!Number.isInteger(feedLogMax) || feedLogMax < 1) throw new TypeError('createPostgresSessions: feedLogMax must be an integer >= 1')
  // Trimmed in blocks (like Redis's MAXLEN ~): one DELETE per tenth of the log, not one per revocation.
  const trimSlack = Math.ceil(feedLogMax / 10)
  const follower = followRevocations({
    ...(db.pool.options as pg.ClientConfig),
    application_name: 'authcenter-revocations',
    keepAlive: true
  })

  /**
   * The denylist write of docs/revocation-protocol.md, inside a revoking transaction
   * (after its session change): epoch if missing, the feed lock, the entry (merged for
   * a user entry), the log row, the notification, and the trim.
   */
  async function deny (tx: Queryable, field: string, next: DenyValue, merge: boolean, now: number): Promise<void> {
    await tx.query('INSERT INTO ac_epoch (id, value) VALUES (1, $1) ON CONFLICT (id) DO NOTHING', [newEpoch(now)])
    // The feed lock: revocations commit one at a time, so log ids grow in commit order.
    const head = await tx.query<{ epoch: string, trimmed_to: string }>(
      'SELECT e.value AS epoch, f.trimmed_to FROM ac_revocation_feed f JOIN ac_epoch e ON e.id = 1 WHERE f.id = 1 FOR UPDATE OF f')
    const { epoch, trimmed_to: trimmedTo } = head.rows[0]!
    let value = next
    if (merge) {
      // Safe to read then write: every denylist write holds the feed lock.
      const old = await tx.query<{ value: string }>('SELECT value FROM ac_denylist WHERE field = $1', [field])
      value = mergeUserEntry(old.rows[0] === undefined ? undefined : parseDenyValue(old.rows[0].value), next)
    }
    const text = formatDenyValue(value)
    const message = denyMessage(field, text)
    const logged = await tx.query<{ id: string }>(
      `WITH d AS (
         INSERT INTO ac_denylist (field, value, expires_at) VALUES ($1, $2, $3)
         ON CONFLICT (field) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at
       ), l AS (
         INSERT INTO ac_revocation_log (message) VALUES ($4) RETURNING id
       )
       SELECT id, pg_notify($5, $6::text || id::text || ' ' || $4::text) FROM l`,
      [field, text, value.expiresAt, message, REVOCATION_CHANNEL, formatCursor(epoch, '0-')])
    const id = Number(logged.rows[0]!.id)
    const floor = id - feedLogMax
    if (floor - Number(trimmedTo) >= trimSlack) {
      await tx.query('DELETE FROM ac_revocation_log WHERE id <= $1', [floor])
      await tx.query('UPDATE ac_revocation_feed SET trimmed_to = $1 WHERE id = 1', [floor])
    }
  }

  const sessionEntry = (now: number): DenyValue => ({ revokedAt: now, expiresAt: now + denyTtlMs })

  async function locked (tx: Queryable, id: string): Promise<Session | undefined> {
    const { rows } = await tx.query<SessionRow>(`SELECT ${COLUMNS} FROM ac_sessions WHERE id = $1 AND ${RETAINED} FOR UPDATE`, [id])
    return rows[0] === undefined ? undefined : decodeSession(rows[0])
  }

  async function markRevoked (tx: Queryable, id: string, reason: string, now: number): Promise<Session> {
    const { rows } = await tx.query<SessionRow>(
      `UPDATE ac_sessions SET revoked_at = $2, revoked_reason = $3 WHERE id = $1 RETURNING ${COLUMNS}`, [id, now, reason])
    return decodeSession(rows[0]!)
  }

  /** Creates the epoch when missing; returns the one in force. */
  async function ensureEpoch (now: number): Promise<string> {
    for (;;) {
      const { rows } = await db.query<{ value: string }>(
        `WITH ins AS (INSERT INTO ac_epoch (id, value) VALUES (1, $1) ON CONFLICT (id) DO NOTHING RETURNING value)
         SELECT value FROM ins UNION ALL SELECT value FROM ac_epoch WHERE id = 1`, [newEpoch(now)])
      // Empty only when another replica made it after this statement's snapshot: read again.
      if (rows[0] !== undefined) return rows[0].value
    }
  }

  return {
    async createSession (session) {
      const s = session
      // Like the Redis driver: the first login into an empty database makes the epoch, at
      // its createdAt (the tokens' iat), in the same statement as the session.
      await db.query(
        `WITH epoch AS (INSERT INTO ac_epoch (id, value) VALUES (1, $19) ON CONFLICT (id) DO NOTHING)
         INSERT INTO ac_sessions (${COLUMNS}, retain_until)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, ${DB_NOW_MS} + $20)
         ON CONFLICT (id) DO UPDATE SET
           user_id = EXCLUDED.user_id, client_id = EXCLUDED.client_id, device_name = EXCLUDED.device_name, ip = EXCLUDED.ip,
           user_agent = EXCLUDED.user_agent, created_at = EXCLUDED.created_at, last_used_at = EXCLUDED.last_used_at,
           expires_at = EXCLUDED.expires_at, refresh_gen = EXCLUDED.refresh_gen, rotated_at = EXCLUDED.rotated_at,
           refresh_nonce = EXCLUDED.refresh_nonce, revoked_at = EXCLUDED.revoked_at, revoked_reason = EXCLUDED.revoked_reason,
           jkt = EXCLUDED.jkt, fgp_hash = EXCLUDED.fgp_hash, scope = EXCLUDED.scope, kind = EXCLUDED.kind,
           retain_until = EXCLUDED.retain_until`,
        [s.id, s.userId, s.clientId, s.deviceName ?? null, s.ip ?? null, s.userAgent ?? null, s.createdAt, s.lastUsedAt, s.expiresAt,
          s.refreshGen, s.rotatedAt, s.refreshNonce, s.revokedAt ?? null, s.revokedReason ?? null, s.jkt ?? null, s.fgpHash ?? null,
          s.scope ?? null, s.kind ?? null, newEpoch(s.createdAt), sessionRetentionMs(s.expiresAt, s.createdAt)])
    },

    async getSession (id) {
      const { rows } = await db.query<SessionRow>(`SELECT ${COLUMNS} FROM ac_sessions WHERE id = $1 AND ${RETAINED}`, [id])
      return rows[0] === undefined ? null : decodeSession(rows[0])
    },

    async rotateRefresh ({ sessionId, presentedGen, now, graceMs, newExpiresAt, expectedNonce }) {
      return await db.transaction(async (tx) => {
        const s = await locked(tx, sessionId)
        if (s === undefined) return { status: 'missing' }
        if (expectedNonce !== undefined && expectedNonce !== s.refreshNonce) return { status: 'stale' }
        const status = decideRotation(s, presentedGen, now, graceMs)
        if (status === 'rotated') {
          const { rows } = await tx.query<SessionRow>(
            `UPDATE ac_sessions SET refresh_gen = refresh_gen + 1, rotated_at = $2, last_used_at = $2, expires_at = $3,
               retain_until = ${DB_NOW_MS} + $4
             WHERE id = $1 RETURNING ${COLUMNS}`, [sessionId, now, newExpiresAt, sessionRetentionMs(newExpiresAt, now)])
          return { status, session: decodeSession(rows[0]!) }
        }
        if (status === 'reused') {
          const revoked = await markRevoked(tx, sessionId, REUSED_REASON, now)
          await deny(tx, sessionField(sessionId), sessionEntry(now), false, now)
          return { status, session: revoked }
        }
        return { status, session: s }
      })
    },

    async revokeSession (id, reason, now) {
      return await db.transaction(async (tx) => {
        const s = await locked(tx, id)
        if (s === undefined) return null
        // Idempotent: the first revocation stands, and only it writes an entry.
        if (s.revokedAt !== undefined) return s
        const revoked = await markRevoked(tx, id, reason, now)
        await deny(tx, sessionField(id), sessionEntry(now), false, now)
        return revoked
      })
    },

    async revokeUserSessions (userId, reason, now, exceptSessionId) {
      return await db.transaction(async (tx) => {
        // Locked in id order, so two of these for one user cannot deadlock; a session
        // created after this statement is created after the revocation and stays live.
        const { rows } = await tx.query<{ id: string }>(
          `WITH target AS (
             SELECT id FROM ac_sessions
             WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 AND ${RETAINED} AND ($4::text IS NULL OR id <> $4::text)
             ORDER BY id FOR UPDATE
           )
           UPDATE ac_sessions s SET revoked_at = $2, revoked_reason = $3 FROM target WHERE s.id = target.id RETURNING s.id`,
          [userId, now, reason, exceptSessionId ?? null])
        const next: DenyValue = { revokedAt: now, expiresAt: now + denyTtlMs, ...(exceptSessionId !== undefined ? { exceptSid: exceptSessionId } : {}) }
        await deny(tx, userField(userId), next, true, now)
        return rows.map((r) => r.id)
      })
    },

    async listUserSessions (userId, now) {
      const { rows } = await db.query<SessionRow>(
        `SELECT ${COLUMNS} FROM ac_sessions WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 AND ${RETAINED}`, [userId, now])
      return rows.map(decodeSession).sort(byCreatedAt)
    },

    async revokeUnstoredSession (id, now) {
      return await db.transaction(async (tx) => {
        // Under the feed lock every denylist write holds, so "not there yet, then write" cannot race another.
        await tx.query('SELECT 1 FROM ac_revocation_feed WHERE id = 1 FOR UPDATE')
        const { rows } = await tx.query('SELECT 1 FROM ac_denylist WHERE field = $1', [sessionField(id)])
        if (rows.length > 0) return false
        await deny(tx, sessionField(id), sessionEntry(now), false, now)
        return true
      })
    },

    async denyEntriesOf (sessionId, userId) {
      const { rows: [row] } = await db.query<{ epoch: string | null, session: string | null, user: string | null }>(
        `SELECT (SELECT value FROM ac_epoch WHERE id = 1) AS epoch,
                (SELECT value FROM ac_denylist WHERE field = $1) AS session,
                (SELECT value FROM ac_denylist WHERE field = $2) AS "user"`, [sessionField(sessionId), userField(userId)])
      return denyEntries(row?.epoch, row?.session, row?.user)
    },

    ensureEpoch,

    async denylist () {
      // Subscribe-then-load: a pending LISTEN is confirmed first, so nothing committed
      // between the two can fall in a gap. The cursor is read before the entries.
      await follower.confirmed()
      const epoch = await ensureEpoch(Date.now())
      const { rows: [head] } = await db.query<{ trimmed_to: string, last: string | null }>(
        'SELECT f.trimmed_to, (SELECT max(id) FROM ac_revocation_log) AS last FROM ac_revocation_feed f WHERE f.id = 1')
      const { rows } = await db.query<{ field: string, value: string }>('SELECT field, value FROM ac_denylist')
      return {
        epoch,
        entries: rows.map((r) => denyMessage(r.field, r.value)),
        cursor: formatCursor(epoch, `0-${head!.last ?? head!.trimmed_to}`)
      }
    },

    subscribeRevocations (listener) {
      return follower.add(listener)
    },

    async revocationsAfter (cursor, limit) {
      const parsed = parseCursor(cursor)
      if (parsed === undefined || parsed.ms !== 0) return null
      // One statement, one snapshot: the epoch, the log's ends and the rows after the cursor agree.
      const { rows: [head] } = await db.query<{ epoch: string | null, trimmed_to: string, last: string | null, entries: Array<[number, string]> }>(
        `SELECT (SELECT value FROM ac_epoch WHERE id = 1) AS epoch, f.trimmed_to,
           (SELECT max(id) FROM ac_revocation_log) AS last,
           (SELECT coalesce(json_agg(json_build_array(r.id, r.message) ORDER BY r.id), '[]'::json)
              FROM (SELECT id, message FROM ac_revocation_log WHERE id > $1 ORDER BY id LIMIT $2) r) AS entries
         FROM ac_revocation_feed f WHERE f.id = 1`, [parsed.seq, Math.max(0, Math.floor(limit))])
      if (head === undefined || head.epoch === null || epochTag(head.epoch) !== parsed.tag) return null
      const trimmedTo = Number(head.trimmed_to)
      const last = head.last === null ? trimmedTo : Number(head.last)
      if (parsed.seq > last || parsed.seq < trimmedTo) return null
      const epoch = head.epoch
      return head.entries.map(([id, message]): LoggedRevocation => ({ message, cursor: formatCursor(epoch, `0-${id}`) }))
    },

    async pruneDenylist (now) {
      const { rowCount } = await db.query('DELETE FROM ac_denylist WHERE expires_at <= $1', [now])
      // Sessions past their retention go with the same periodic prune (reads ignore them already).
      await db.query(`DELETE FROM ac_sessions WHERE retain_until <= ${DB_NOW_MS}`)
      return rowCount ?? 0
    },

    async closeSessions () {
      await follower.close()
    }
  }
}
