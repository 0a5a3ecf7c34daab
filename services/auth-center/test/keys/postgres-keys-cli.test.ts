import t from 'tap'
import { spawnSync } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { generateKek } from '../../src/keys/kek.js'
import { startMigratedPostgres } from '../store/pg-template.js'

const cli = (name: string): string => fileURLToPath(new URL(`../../src/keys/${name}`, import.meta.url))

t.test('keys:rotate and kek:rotate work on the key set in PostgreSQL when DATABASE_URL is set', async (t) => {
  const server = await startMigratedPostgres([3])
  t.teardown(() => server.close())
  const { url } = await server.fresh()
  const dataDir = await mkdtemp(join(tmpdir(), 'authcenter-keys-'))
  t.teardown(() => rm(dataDir, { recursive: true, force: true }))
  const oldKek = generateKek()
  const run = (file: string, env: Record<string, string>): ReturnType<typeof spawnSync> =>
    spawnSync(process.execPath, ['--import=tsx', cli(file)], { env: { ...process.env, DATABASE_URL: url, AUTH_DATA_DIR: dataDir, ...env }, encoding: 'utf8', timeout: 30_000 })
  const revision = async (): Promise<number> => {
    const c = new pg.Client({ connectionString: url })
    await c.connect()
    try {
      const { rows } = await c.query<{ revision: string }>("SELECT revision FROM ac_keys WHERE name = 'signing'")
      return rows.length === 0 ? 0 : Number(rows[0]!.revision)
    } finally {
      await c.end()
    }
  }

  let r = run('rotate-cli.ts', { AUTH_KEK: oldKek })
  t.equal(r.status, 0, String(r.stderr))
  const first = await revision()
  t.ok(first > 0, 'the key set is in ac_keys')
  r = run('rotate-cli.ts', { AUTH_KEK: oldKek })
  t.equal(r.status, 0, String(r.stderr))
  t.equal(await revision(), first + 1, 'a second rotation is one more revision of that row')

  r = run('kek-rotate-cli.ts', { AUTH_KEK: generateKek(), AUTH_KEK_PREVIOUS: oldKek })
  t.equal(r.status, 0, String(r.stderr))
  t.match(String(r.stdout), /PostgreSQL table ac_keys, row signing: re-sealed, KEK \S+ -> \S+/)
  t.equal(await revision(), first + 1, 're-sealing keeps the revision')
})
