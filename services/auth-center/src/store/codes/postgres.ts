import type { Postgres } from '../postgres/pool.js'
import { DB_NOW_MS, pruneEvery } from '../postgres/expiry.js'
import type { CodeStore, SmsCheckResult } from './codes.js'
import { assertSmsOptions, assertWindow } from '../rules.js'

/** Writes between two background prunes of expired rows. */
const PRUNE_EVERY = 500

/** Rows deleted per table and prune: bounded, so a prune never holds many locks at once. */
const PRUNE_BATCH = 1000

const NOW = DB_NOW_MS

/**
 * The PostgreSQL CodeStore (tables in migrations/0005_codes.sql). Each decision is ONE
 * statement (an upsert or an UPDATE … RETURNING), atomic on its row: concurrent code
 * checks queue on the row lock and each sees the row the one before left. Deadlines are
 * by the database's clock (postgres/expiry.ts); an expired row is treated as absent and
 * deleted by a background prune every few hundred writes.
 *
 * @example
 * const codes = createPostgresCodes(createPostgres(config.databaseUrl))
 */
export function createPostgresCodes (db: Postgres): CodeStore {
  const prune = pruneEvery(PRUNE_EVERY, async () => {
    for (const [table, expired] of [
      ['ac_sms_codes', `GREATEST(expires_at, cooldown_until) <= ${NOW}`],
      ['ac_counters', `reset_at <= ${NOW}`],
      ['ac_marks', `expires_at <= ${NOW}`]
    ] as const) {
      await db.query(`DELETE FROM ${table} WHERE ctid IN (SELECT ctid FROM ${table} WHERE ${expired} LIMIT ${PRUNE_BATCH})`)
    }
  })

  return {
    async issueSmsCode (mobile, codeHash, opts) {
      assertSmsOptions(opts)
      const { ttlMs, cooldownMs, maxAttempts } = opts
      prune()
      // The upsert replaces the row only when no cooldown runs. The outer SELECT reads the
      // statement's snapshot, i.e. the row as it was before: when refused, its cooldown.
      const { rows: [r] } = await db.query<{ issued: boolean, wait: string | null }>(
        `WITH up AS (
           INSERT INTO ac_sms_codes AS c (mobile, code_hash, tries_left, expires_at, cooldown_until)
           VALUES ($1, $2, $3, ${NOW} + $4, ${NOW} + $5)
           ON CONFLICT (mobile) DO UPDATE SET code_hash = EXCLUDED.code_hash, tries_left = EXCLUDED.tries_left,
             expires_at = EXCLUDED.expires_at, cooldown_until = EXCLUDED.cooldown_until
           WHERE c.cooldown_until <= ${NOW}
           RETURNING 1
         )
         SELECT EXISTS (SELECT 1 FROM up) AS issued,
           (SELECT cooldown_until - ${NOW} FROM ac_sms_codes WHERE mobile = $1) AS wait`,
        [mobile, codeHash, maxAttempts, Math.ceil(ttlMs), Math.ceil(cooldownMs)])
      if (r!.issued) return { ok: true, retryAfterMs: 0 }
      // No live cooldown in the snapshot: another issue started one after it (it refused this
      // one); this call's cooldown is the best estimate of that one's.
      const wait = r!.wait === null ? 0 : Number(r!.wait)
      return { ok: false, retryAfterMs: wait > 0 ? wait : Math.max(1, Math.ceil(cooldownMs)) }
    },

    async checkSmsCode (mobile, codeHash) {
      // One UPDATE decides and consumes: a match marks tries_left -1 and clears the code;
      // a miss uses one try and clears the code on the last. SET reads the old row, RETURNING
      // the new one. A plain comparison is fine: it compares hashes, and a prefix of a hash
      // teaches nothing about the code.
      const { rows } = await db.query<{ tries_left: number }>(
        `UPDATE ac_sms_codes SET
           code_hash = CASE WHEN code_hash = $2 OR tries_left <= 1 THEN NULL ELSE code_hash END,
           tries_left = CASE WHEN code_hash = $2 THEN -1 ELSE tries_left - 1 END
         WHERE mobile = $1 AND code_hash IS NOT NULL AND expires_at > ${NOW}
         RETURNING tries_left`, [mobile, codeHash])
      const r = rows[0]
      const result: SmsCheckResult = r === undefined ? 'missing' : r.tries_left < 0 ? 'ok' : r.tries_left === 0 ? 'dead' : 'wrong'
      return result
    },

    async cancelSmsCode (mobile) {
      await db.query('DELETE FROM ac_sms_codes WHERE mobile = $1', [mobile])
    },

    async hit (key, limit, windowMs) {
      assertWindow(windowMs)
      prune()
      // A live window counts on; an ended one (still in the table) starts over.
      const { rows: [r] } = await db.query<{ count: number, left: string }>(
        `INSERT INTO ac_counters AS c (key, count, reset_at) VALUES ($1, 1, ${NOW} + $2)
         ON CONFLICT (key) DO UPDATE SET
           count = CASE WHEN c.reset_at > ${NOW} THEN c.count + 1 ELSE 1 END,
           reset_at = CASE WHEN c.reset_at > ${NOW} THEN c.reset_at ELSE EXCLUDED.reset_at END
         RETURNING count, reset_at - ${NOW} AS left`, [key, Math.ceil(windowMs)])
      return { allowed: r!.count <= limit, count: r!.count, retryAfterMs: Number(r!.left) }
    },

    async resetHits (key) {
      await db.query('DELETE FROM ac_counters WHERE key = $1', [key])
    },

    async releaseHit (key) {
      // Only a live window above zero; reset_at stays as it was.
      await db.query(`UPDATE ac_counters SET count = count - 1 WHERE key = $1 AND count > 0 AND reset_at > ${NOW}`, [key])
    },

    async countHits (key) {
      const { rows } = await db.query<{ count: number }>(`SELECT count FROM ac_counters WHERE key = $1 AND reset_at > ${NOW}`, [key])
      return rows[0]?.count ?? 0
    },

    async markOnce (key, ttlMs) {
      prune()
      // New key, or an expired mark taken over: true. A live mark: the WHERE refuses, no row.
      const { rows } = await db.query(
        `INSERT INTO ac_marks AS m (key, expires_at) VALUES ($1, ${NOW} + $2)
         ON CONFLICT (key) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE m.expires_at <= ${NOW}
         RETURNING 1`, [key, Math.max(1, Math.ceil(ttlMs))])
      return rows.length === 1
    }
  }
}
