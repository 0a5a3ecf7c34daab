import type { Postgres } from '../postgres/pool.js'
import { DB_NOW_MS, pruneEvery } from '../postgres/expiry.js'
import type { AuthCode, Consent, OAuthStore } from './oauth.js'

/** Codes saved between two background prunes of expired codes and markers. */
const PRUNE_EVERY = 200

/** Rows deleted per table and prune. */
const PRUNE_BATCH = 1000

const NOW = DB_NOW_MS

interface ConsentRow { client_id: string, scope: string, granted_at: string }

const consentOf = (r: ConsentRow): Consent => ({ clientId: r.client_id, scope: r.scope, grantedAt: Number(r.granted_at) })

/**
 * The PostgreSQL OAuthStore (tables in migrations/0006_oauth.sql). The code's take is one
 * statement: DELETE … RETURNING (its row lock lets exactly one caller have it) and the
 * "used" marker written from what it returned. bind and replay are each one UPDATE of
 * the marker whose RETURNING shows the state it left, so they cannot interleave.
 * Deadlines are by the database's clock (postgres/expiry.ts).
 *
 * @example
 * const oauth = createPostgresOAuth(createPostgres(config.databaseUrl))
 */
export function createPostgresOAuth (db: Postgres): OAuthStore {
  const prune = pruneEvery(PRUNE_EVERY, async () => {
    for (const table of ['ac_auth_codes', 'ac_used_auth_codes']) {
      await db.query(`DELETE FROM ${table} WHERE ctid IN (SELECT ctid FROM ${table} WHERE expires_at <= ${NOW} LIMIT ${PRUNE_BATCH})`)
    }
  })

  return {
    async saveAuthCode (codeId, code, ttlMs) {
      prune()
      await db.query(
        `INSERT INTO ac_auth_codes (code_id, grant_json, expires_at) VALUES ($1, $2, ${NOW} + $3)
         ON CONFLICT (code_id) DO UPDATE SET grant_json = EXCLUDED.grant_json, expires_at = EXCLUDED.expires_at`,
        [codeId, JSON.stringify(code), Math.max(1, Math.ceil(ttlMs))])
    },

    async takeAuthCode (codeId, usedTtlMs) {
      // An expired code is deleted too (it is gone either way) but yields nothing and leaves no marker.
      const { rows } = await db.query<{ grant_json: string }>(
        `WITH taken AS (
           DELETE FROM ac_auth_codes WHERE code_id = $1 RETURNING grant_json, expires_at
         ), live AS (
           SELECT grant_json FROM taken WHERE expires_at > ${NOW}
         ), marked AS (
           INSERT INTO ac_used_auth_codes (code_id, state, expires_at)
           SELECT $1, 'pending', ${NOW} + $2 FROM live
           ON CONFLICT (code_id) DO UPDATE SET state = 'pending', expires_at = EXCLUDED.expires_at
         )
         SELECT grant_json FROM live`, [codeId, Math.max(1, Math.ceil(usedTtlMs))])
      return rows[0] === undefined ? null : JSON.parse(rows[0].grant_json) as AuthCode
    },

    async bindAuthCode (codeId, sessionId) {
      // A replayed marker stays replayed (and says so); any other live one records the session.
      const { rows } = await db.query<{ state: string }>(
        `UPDATE ac_used_auth_codes SET state = CASE WHEN state = 'replayed' THEN state ELSE $2 END
         WHERE code_id = $1 AND expires_at > ${NOW} RETURNING state`, [codeId, `s:${sessionId}`])
      return rows[0]?.state !== 'replayed'
    },

    async replayAuthCode (codeId) {
      const { rows } = await db.query<{ state: string }>(
        `UPDATE ac_used_auth_codes SET state = CASE WHEN state = 'pending' THEN 'replayed' ELSE state END
         WHERE code_id = $1 AND expires_at > ${NOW} RETURNING state`, [codeId])
      const state = rows[0]?.state
      if (state === undefined) return { status: 'unknown' }
      if (state.startsWith('s:')) return { status: 'granted', sessionId: state.slice(2) }
      return { status: 'pending' }
    },

    async setConsent (userId, consent) {
      await db.query(
        `INSERT INTO ac_consents (user_id, client_id, scope, granted_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (user_id, client_id) DO UPDATE SET scope = EXCLUDED.scope, granted_at = EXCLUDED.granted_at`,
        [userId, consent.clientId, consent.scope, consent.grantedAt])
    },

    async getConsent (userId, clientId) {
      const { rows } = await db.query<ConsentRow>(
        'SELECT client_id, scope, granted_at FROM ac_consents WHERE user_id = $1 AND client_id = $2', [userId, clientId])
      return rows[0] === undefined ? null : consentOf(rows[0])
    },

    async listConsents (userId) {
      const { rows } = await db.query<ConsentRow>(
        'SELECT client_id, scope, granted_at FROM ac_consents WHERE user_id = $1 ORDER BY granted_at, client_id', [userId])
      return rows.map(consentOf)
    },

    async deleteConsent (userId, clientId) {
      const { rowCount } = await db.query('DELETE FROM ac_consents WHERE user_id = $1 AND client_id = $2', [userId, clientId])
      return (rowCount ?? 0) > 0
    }
  }
}
