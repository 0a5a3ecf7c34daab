import { readdir, readFile } from 'node:fs/promises'
import pg from 'pg'
import { StoreUnavailableError } from '../errors.js'
import { applyPatch, type Profile, type ProfilePatch, type ProfileStore, type UpsertResult } from './store.js'

/** Versioned SQL files, `<version>_<name>.sql`, applied in order at start (in the deploy too). */
const MIGRATIONS_DIR = new URL('../../migrations/', import.meta.url)

/** Every query answers or fails within this (a 503 STORE_UNAVAILABLE, never a hang). */
const QUERY_TIMEOUT_MS = 2000

export interface PostgresProfileStore extends ProfileStore {
  close (): Promise<void>
}

/**
 * Profiles in PostgreSQL (DATABASE_URL), one row per user: the same contract as the
 * memory and Redis drivers. Migrations are applied when it is created, under an advisory
 * lock, so replicas starting together apply each version once.
 */
export async function createPostgresProfileStore (url: string): Promise<PostgresProfileStore> {
  const pool = new pg.Pool({ connectionString: url, max: 10, connectionTimeoutMillis: QUERY_TIMEOUT_MS, query_timeout: QUERY_TIMEOUT_MS })
  // An idle client's error (the server restarted) must not crash the process; the next query reconnects.
  pool.on('error', () => {})
  await migrate(pool)

  return {
    async get (userId) {
      const { rows } = await guard(pool.query<Row>('SELECT id, username, avatar, updated_at FROM profiles WHERE id = $1', [userId]))
      return rows[0] === undefined ? null : fromRow(rows[0])
    },

    async upsert (userId: string, patch: ProfilePatch): Promise<UpsertResult> {
      const client = await guard(pool.connect())
      try {
        await guard(client.query('BEGIN'))
        // One user's upserts one after the other (a missing row cannot be locked FOR UPDATE),
        // so `before` is exactly what this one replaced.
        await guard(client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`profile:${userId}`]))
        const { rows } = await guard(client.query<Row>('SELECT id, username, avatar, updated_at FROM profiles WHERE id = $1', [userId]))
        const before = rows[0] === undefined ? null : fromRow(rows[0])
        const after = applyPatch(userId, before, patch, new Date())
        await guard(client.query(
          `INSERT INTO profiles (id, username, avatar, updated_at) VALUES ($1, $2, $3, $4)
           ON CONFLICT (id) DO UPDATE SET username = EXCLUDED.username, avatar = EXCLUDED.avatar, updated_at = EXCLUDED.updated_at`,
          [userId, after.username, after.avatar, after.updatedAt]))
        await guard(client.query('COMMIT'))
        return { before, after }
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {})
        throw err
      } finally {
        client.release()
      }
    },

    async close () {
      await pool.end()
    }
  }
}

interface Row { id: string, username: string | null, avatar: string | null, updated_at: Date }

function fromRow (row: Row): Profile {
  return { id: row.id, username: row.username, avatar: row.avatar, updatedAt: row.updated_at.toISOString() }
}

async function migrate (pool: pg.Pool): Promise<void> {
  const files = (await readdir(MIGRATIONS_DIR)).filter((f) => /^\d+_.+\.sql$/.test(f)).sort()
  const client = await pool.connect()
  try {
    await client.query('BEGIN')
    await client.query("SELECT pg_advisory_xact_lock(hashtextextended('user-service:migrations', 0))")
    await client.query('CREATE TABLE IF NOT EXISTS user_service_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())')
    const { rows } = await client.query<{ version: number }>('SELECT version FROM user_service_migrations')
    const applied = new Set(rows.map((r) => r.version))
    for (const file of files) {
      const version = Number(file.split('_')[0])
      if (applied.has(version)) continue
      await client.query(await readFile(new URL(file, MIGRATIONS_DIR), 'utf8'))
      await client.query('INSERT INTO user_service_migrations (version) VALUES ($1)', [version])
    }
    await client.query('COMMIT')
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {})
    throw err
  } finally {
    client.release()
  }
}

async function guard<T> (op: Promise<T>): Promise<T> {
  try {
    return await op
  } catch (err) {
    // An SQL error (a code from the server, e.g. 42P01) is a bug, not an outage: let it be a 500.
    if (err instanceof pg.DatabaseError) throw err
    throw new StoreUnavailableError({ cause: err })
  }
}
