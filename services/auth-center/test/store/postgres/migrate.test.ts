import t from 'tap'
import pg from 'pg'
import { startPostgres } from '@authcenter/testkit'
import { migrate, MigrationError, readMigrations, type Migration } from '../../../src/store/postgres/migrate.js'

async function rows<R extends pg.QueryResultRow> (url: string, sql: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return (await client.query<R>(sql)).rows
  } finally {
    await client.end()
  }
}

t.test('migrations against a real PostgreSQL', async (t) => {
  const server = await startPostgres()
  t.teardown(() => server.close())
  const files = await readMigrations()
  const ours = files.filter((m) => m.version <= 3)

  t.test('the files are numbered 0001… without gaps', async (t) => {
    t.strictSame(files.map((m) => m.version), files.map((_m, i) => i + 1))
    t.strictSame(ours.map((m) => m.name), ['users', 'clients', 'keys'])
  })

  t.test('every migration file applies to an empty database, and a second run applies none', async (t) => {
    const url = await server.newDatabase()
    const first = await migrate(url)
    t.strictSame(first.applied.map((m) => m.version), files.map((m) => m.version))
    t.equal(first.version, files.length)
    const second = await migrate(url)
    t.strictSame(second.applied, [])
    t.equal(second.version, files.length)
    // Hot state only is unlogged (no WAL, no flush at commit; empty after a crash): 0008.
    const kinds = await rows<{ relname: string, relpersistence: string }>(url,
      "SELECT relname, relpersistence FROM pg_class WHERE relkind = 'r' AND relname LIKE 'ac\\_%' ORDER BY relname")
    t.strictSame(kinds.filter((k) => k.relpersistence === 'u').map((k) => k.relname), ['ac_counters', 'ac_marks', 'ac_sms_codes'])
    t.ok(kinds.some((k) => k.relname === 'ac_users' && k.relpersistence === 'p'), 'accounts are logged')
    t.ok(kinds.some((k) => k.relname === 'ac_sessions' && k.relpersistence === 'p'), 'sessions are logged')
  })

  t.test('runners started together apply each migration exactly once', async (t) => {
    const url = await server.newDatabase()
    // A migration slow enough that the runners really overlap: without the lock the
    // others would see it missing and apply it again (a primary key violation).
    const slow: Migration[] = [...ours, { version: 4, name: 'slow', sql: 'SELECT pg_sleep(0.3); CREATE TABLE slow_marker (n int)' }]
    const results = await Promise.all(Array.from({ length: 4 }, async () => await migrate(url, { migrations: slow })))
    t.strictSame(results.map((r) => r.applied.length).sort(), [0, 0, 0, 4], 'one runner applied all four, the others none')
    t.strictSame(results.map((r) => r.version), [4, 4, 4, 4])
    const recorded = await rows<{ version: number, name: string }>(url, 'SELECT version, name FROM ac_schema_migrations ORDER BY version')
    t.strictSame(recorded.map((r) => `${r.version}:${r.name}`), ['1:users', '2:clients', '3:keys', '4:slow'])
  })

  t.test('a failing migration leaves nothing of itself and stops the run; the ones before stay', async (t) => {
    const url = await server.newDatabase()
    const broken: Migration[] = [...ours, { version: 4, name: 'broken', sql: 'CREATE TABLE half_done (n int); SELECT no_such_function()' }]
    await t.rejects(migrate(url, { migrations: broken }), /migration 0004_broken failed: function no_such_function\(\) does not exist/)
    t.strictSame((await rows<{ version: number }>(url, 'SELECT version FROM ac_schema_migrations ORDER BY version')).map((r) => r.version), [1, 2, 3])
    t.strictSame(await rows(url, "SELECT 1 FROM pg_tables WHERE tablename = 'half_done'"), [], 'its table was rolled back')
  })

  t.test('a database with a migration this code does not know is refused', async (t) => {
    const url = await server.newDatabase()
    await migrate(url, { migrations: [...ours, { version: 4, name: 'from_the_future', sql: 'SELECT 1' }] })
    const err = await migrate(url, { migrations: ours }).catch((e: unknown) => e)
    t.type(err, MigrationError)
    t.match((err as Error).message, /has migration 4 \(from_the_future\), which this version of the auth center does not know/)
  })

  t.test('a renamed file for an applied version is refused', async (t) => {
    const url = await server.newDatabase()
    await migrate(url, { migrations: ours })
    await t.rejects(migrate(url, { migrations: [ours[0]!, { ...ours[1]!, name: 'renamed' }, ours[2]!] }), /migration 2 was applied as clients but the file is renamed/)
  })

  t.test('the unique mobile number is a constraint of the schema', async (t) => {
    const url = await server.newDatabase()
    await migrate(url, { migrations: ours })
    await rows(url, "INSERT INTO ac_users (id, mobile, created_at) VALUES ('a', '+8613800138000', 1)")
    await t.rejects(rows(url, "INSERT INTO ac_users (id, mobile, created_at) VALUES ('b', '+8613800138000', 1)"), { code: '23505', constraint: 'ac_users_mobile_key' })
    await t.rejects(rows(url, "INSERT INTO ac_users (id, mobile, created_at) VALUES ('c', '13800138000', 1)"), { code: '23514', constraint: 'ac_users_mobile_e164' })
  })
})
