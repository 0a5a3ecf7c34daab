import t from 'tap'
import { spawnSync } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build, ConfigError, loadConfig } from '../../src/app.js'
import { loadClients } from '../../src/clients/registry.js'

const GENERATED = 'q3JtYx0b9yH1oV2kq8c9dE4fG5hI6jK7lM8nO9pQ0rS' // what the README's command prints (43 characters)

t.test('the clients file: a plain secret is hashed at start and must not be obviously short (issue #12)', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'authcenter-clients-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const file = join(dir, 'clients.json')
  const withSecret = async (secret: unknown, extra: Record<string, unknown> = {}): Promise<string> => {
    await writeFile(file, JSON.stringify({ clients: [{ client_id: 'robot', type: 'confidential', grant_types: ['client_credentials'], scope: 'reports', client_secret: secret, ...extra }] }))
    return file
  }

  for (const short of ['hunter2', 'correct horse battery staple', 'x'.repeat(31)]) {
    const path = await withSecret(short)
    const err = t.throws(() => loadClients(loadConfig({ AUTH_CLIENTS_FILE: path })), ConfigError) as Error
    t.match(err.message, /^AUTH_CLIENTS_FILE: \/clients\[robot\]\/client_secret: too short/, `${short.length} characters`)
    t.notMatch(err.message, short, 'the message never repeats the secret')
    t.notMatch(err.message, /\n/, 'one line')
  }
  const both = await withSecret(GENERATED, { client_secret_sha256: 'a'.repeat(64) })
  t.throws(() => loadClients(loadConfig({ AUTH_CLIENTS_FILE: both })),
    new ConfigError('AUTH_CLIENTS_FILE: /clients[robot]/client_secret: give client_secret or client_secret_sha256, not both'))
  await writeFile(file, JSON.stringify({ clients: [{ client_id: 'spa', type: 'public', redirect_uris: ['http://localhost:1/cb'], client_secret: GENERATED }] }))
  t.throws(() => loadClients(loadConfig({ AUTH_CLIENTS_FILE: file })), /\/clients\[spa\]\/client_secret: only a confidential client has a secret/)

  // A generated secret: hashed at start, and it authenticates at the token endpoint.
  const registry = loadClients(loadConfig({ AUTH_CLIENTS_FILE: await withSecret(GENERATED) }))
  t.equal(registry.get('robot')?.oauth?.secretSha256?.length, 32)
  const app = await build(loadConfig({ AUTH_CLIENTS_FILE: file, AUTH_DATA_DIR: dir, LOG_LEVEL: 'silent' }), { logger: false })
  t.teardown(() => app.close())
  const basic = (s: string): string => `Basic ${Buffer.from(`robot:${s}`).toString('base64')}`
  const ok = await app.inject({ method: 'POST', url: '/oauth/token', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(GENERATED) }, payload: 'grant_type=client_credentials' })
  t.equal(ok.statusCode, 200)
  const wrong = await app.inject({ method: 'POST', url: '/oauth/token', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(`${GENERATED}x`) }, payload: 'grant_type=client_credentials' })
  t.equal(wrong.statusCode, 401)

  // The server stops with that one line.
  await withSecret('hunter2')
  const server = fileURLToPath(new URL('../../src/server.ts', import.meta.url))
  const r = spawnSync(process.execPath, ['--import=tsx', server], { env: { ...process.env, AUTH_CLIENTS_FILE: file, AUTH_DATA_DIR: dir, PORT: '0' }, encoding: 'utf8', timeout: 30_000 })
  t.not(r.status, 0)
  const lines = r.stderr.trim().split('\n')
  t.equal(lines.length, 1, r.stderr)
  t.match(lines[0], /AUTH_CLIENTS_FILE: \/clients\[robot\]\/client_secret: too short/)
  t.notMatch(r.stderr + r.stdout, 'hunter2')
})
