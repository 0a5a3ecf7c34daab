import type { Postgres } from '../postgres/pool.js'
import { assertCandidate } from '../rules.js'
import type { User, UserStore } from './users.js'

interface UserRow {
  id: string
  mobile: string
  password_hash: string | null
  created_at: string
  password_changed_at: string | null
}

const COLUMNS = 'id, mobile, password_hash, created_at, password_changed_at'

// bigint columns come back as strings; epoch milliseconds fit a double exactly.
function toUser (row: UserRow): User {
  const user: User = { id: row.id, mobile: row.mobile, createdAt: Number(row.created_at) }
  if (row.password_hash !== null) user.passwordHash = row.password_hash
  if (row.password_changed_at !== null) user.passwordChangedAt = Number(row.password_changed_at)
  return user
}

/**
 * The PostgreSQL UserStore (migrations/0001_users.sql). First login is one INSERT …
 * ON CONFLICT (mobile) DO NOTHING: the unique constraint decides, so of any number of
 * concurrent first logins exactly one inserts, and the others read the row it made.
 * That read cannot miss: the conflicting insert waited for the winner to commit.
 */
export function createPostgresUsers (pg: Postgres): UserStore {
  async function one (sql: string, values: unknown[]): Promise<User | null> {
    const { rows } = await pg.query<UserRow>(sql, values)
    return rows[0] === undefined ? null : toUser(rows[0])
  }

  return {
    async getUser (id) {
      return await one(`SELECT ${COLUMNS} FROM ac_users WHERE id = $1`, [id])
    },

    async getUserByMobile (mobile) {
      return await one(`SELECT ${COLUMNS} FROM ac_users WHERE mobile = $1`, [mobile])
    },

    async getOrCreateUserByMobile (mobile, candidate) {
      assertCandidate(mobile, candidate)
      const created = await one(
        `INSERT INTO ac_users (${COLUMNS}) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (mobile) DO NOTHING RETURNING ${COLUMNS}`,
        [candidate.id, mobile, candidate.passwordHash ?? null, candidate.createdAt, candidate.passwordChangedAt ?? null])
      if (created !== null) return { user: created, created: true }
      const existing = await one(`SELECT ${COLUMNS} FROM ac_users WHERE mobile = $1`, [mobile])
      // Accounts are never deleted, so the row that won the conflict is there.
      if (existing === null) throw new Error('users: the account that won the first login is missing')
      return { user: existing, created: false }
    },

    async setPassword (userId, passwordHash, now, expectedHash) {
      // With expectedHash, a compare-and-set in the one UPDATE: a change made meanwhile wins.
      await pg.query(
        `UPDATE ac_users SET password_hash = $2, password_changed_at = $3
         WHERE id = $1 AND ($4::text IS NULL OR password_hash = $4)`,
        [userId, passwordHash, now, expectedHash ?? null])
    }
  }
}
