import t from 'tap'
import pg from 'pg'
import { startPostgres } from '../src/index.js'

async function select (url: string, sql: string): Promise<unknown> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 })
  await client.connect()
  try {
    return (await client.query(sql)).rows[0]
  } finally {
    await client.end()
  }
}

async function refused (url: string): Promise<string> {
  try {
    await select(url, 'SELECT 1')
    return 'connected'
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? 'error'
  }
}

t.test('starts a real PostgreSQL on its own port; stop and start keep the data; newDatabase gives fresh databases', async (t) => {
  const server = await startPostgres()
  t.teardown(() => server.close())
  t.match(server.url, new RegExp(`^postgres://postgres@127\\.0\\.0\\.1:${server.port}/postgres$`))
  t.same(await select(server.url, "SELECT current_setting('fsync') AS fsync, current_setting('listen_addresses') AS listen"), { fsync: 'on', listen: '127.0.0.1' })

  const a = await server.newDatabase()
  const b = await server.newDatabase()
  t.not(a, b)
  await select(a, 'CREATE TABLE kept (v text)')
  await select(a, "INSERT INTO kept VALUES ('v')")
  t.same(await select(a, 'SELECT v FROM kept'), { v: 'v' })
  t.same(await select(b, "SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'kept'"), { n: 0 }, 'the other database is empty')

  await server.stop()
  t.equal(await refused(a), 'ECONNREFUSED')
  await server.start()
  t.same(await select(a, 'SELECT v FROM kept'), { v: 'v' }, 'the data survives a restart')
})

t.test('a missing PG_BIN_DIR is a clear error', async (t) => {
  const before = process.env.PG_BIN_DIR
  process.env.PG_BIN_DIR = '/nonexistent'
  t.teardown(() => { if (before === undefined) delete process.env.PG_BIN_DIR; else process.env.PG_BIN_DIR = before })
  await t.rejects(startPostgres(), /PG_BIN_DIR=\/nonexistent holds no initdb/)
})
