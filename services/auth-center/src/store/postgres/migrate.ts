import { readdir, readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import pg from 'pg'

/** services/auth-center/migrations, from src/store/postgres and from dist/store/postgres alike. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../../migrations/', import.meta.url))

// One arbitrary constant for every replica: pg_advisory_lock(key) serialises the runners.
const LOCK_KEY = 7_246_310_513

const FILE = /^(\d{4})_([a-z0-9_]+)\.sql$/

export interface Migration {
  version: number
  name: string
  sql: string
}

export interface MigrateResult {
  /** The migrations this run applied, in order (empty when the schema was current). */
  applied: Array<{ version: number, name: string }>
  /** The schema's version afterwards. */
  version: number
}

/** A refusal that needs a person: a schema newer than the code, or history that does not match the files. */
export class MigrationError extends Error {
  override name = 'MigrationError'
}

/** The versioned files of `dir` (NNNN_name.sql), in order; two files with one number are refused. */
export async function readMigrations (dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const out: Migration[] = []
  for (const file of (await readdir(dir)).sort()) {
    const m = FILE.exec(file)
    if (m === null) continue
    const version = Number(m[1])
    if (out.some((x) => x.version === version)) throw new MigrationError(`migrations: two files numbered ${m[1]}`)
    out.push({ version, name: m[2]!, sql: await readFile(`${dir}/${file}`, 'utf8') })
  }
  return out
}

/**
 * Brings the database's schema up to the code's: each pending migration in its own
 * transaction, recorded in ac_schema_migrations in that same transaction, so a failed
 * file leaves nothing half applied. A session advisory lock makes replicas that start
 * together take turns: the first applies, the others then find nothing to do. A
 * database that has a version this code does not know (a newer release ran) is refused
 * rather than used by code that does not understand it.
 */
export async function migrate (url: string, opts: { dir?: string, migrations?: Migration[] } = {}): Promise<MigrateResult> {
  const migrations = opts.migrations ?? await readMigrations(opts.dir)
  // Its own connection: the lock belongs to the session, and a migration may outlast a request's statement timeout.
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000, application_name: 'authcenter-migrate' })
  await client.connect()
  try {
    await client.query('SELECT pg_advisory_lock($1)', [LOCK_KEY])
    try {
      await client.query(`CREATE TABLE IF NOT EXISTS ac_schema_migrations (
        version integer PRIMARY KEY,
        name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`)
      const { rows } = await client.query<{ version: number, name: string }>('SELECT version, name FROM ac_schema_migrations ORDER BY version')
      const known = new Map(migrations.map((m) => [m.version, m]))
      for (const row of rows) {
        const m = known.get(row.version)
        if (m === undefined) {
          throw new MigrationError(`database schema has migration ${row.version} (${row.name}), which this version of the auth center does not know: run a newer release, or restore a backup taken before it`)
        }
        if (m.name !== row.name) throw new MigrationError(`migration ${row.version} was applied as ${row.name} but the file is ${m.name}`)
      }
      const done = new Set(rows.map((r) => r.version))
      const applied: MigrateResult['applied'] = []
      for (const m of migrations) {
        if (done.has(m.version)) continue
        await client.query('BEGIN')
        try {
          await client.query(m.sql)
          await client.query('INSERT INTO ac_schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name])
          await client.query('COMMIT')
        } catch (err) {
          await client.query('ROLLBACK').catch(() => {})
          throw new MigrationError(`migration ${String(m.version).padStart(4, '0')}_${m.name} failed: ${(err as Error).message}`, { cause: err })
        }
        applied.push({ version: m.version, name: m.name })
      }
      const version = Math.max(0, ...rows.map((r) => r.version), ...applied.map((a) => a.version))
      return { applied, version }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]).catch(() => {})
    }
  } finally {
    await client.end().catch(() => {})
  }
}
