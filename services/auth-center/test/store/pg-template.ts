import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { startPostgres, type PostgresServer } from '@authcenter/testkit'
import { migrate, readMigrations } from '../../src/store/postgres/migrate.js'
import { createPostgres, type Postgres } from '../../src/store/postgres/pool.js'

export interface MigratedPostgres {
  server: PostgresServer
  /** A fresh database holding the migrated schema (a copy of the template), and a pool on it. */
  fresh (): Promise<{ url: string, db: Postgres }>
  close (): Promise<void>
}

/**
 * One PostgreSQL server per test file, the schema migrated once into a template
 * database, and a copy of it per fixture (CREATE DATABASE … TEMPLATE is a file copy,
 * far faster than migrating again). A database per fixture, not a table prefix: the
 * NOTIFY channel is per database, so two fixtures must never share one.
 * `versions`: the migrations the drivers under test need (each concern's tables stand alone).
 */
export async function startMigratedPostgres (versions: number[]): Promise<MigratedPostgres> {
  const server = await startPostgres()
  const templateUrl = await server.newDatabase()
  const migrations = (await readMigrations()).filter((m) => versions.includes(m.version))
  if (migrations.length !== versions.length) throw new Error(`migrations ${versions.join(', ')} not all found`)
  await migrate(templateUrl, { migrations })
  const template = new URL(templateUrl).pathname.slice(1)
  const pools: Postgres[] = []
  return {
    server,
    async fresh () {
      const name = `t_${randomBytes(6).toString('hex')}`
      const admin = new pg.Client({ connectionString: server.url })
      await admin.connect()
      try {
        await admin.query(`CREATE DATABASE ${name} TEMPLATE ${template}`)
      } finally {
        await admin.end()
      }
      const url = new URL(server.url)
      url.pathname = `/${name}`
      const db = createPostgres(url.href)
      pools.push(db)
      return { url: url.href, db }
    },
    async close () {
      await Promise.all(pools.map(async (p) => { await p.close().catch(() => {}) }))
      await server.close()
    }
  }
}
