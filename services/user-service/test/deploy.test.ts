// The Dockerfile's build steps outside Docker (no engine in CI, issue #14): `pnpm deploy
// --prod` of each service into a temp directory, both started from there with `node
// dist/server.js` (production dependencies only: a runtime import declared as a dev
// dependency fails here), a login at the auth center, a call to the user service with the
// token, then SIGTERM (the graceful shutdown, README "Graceful shutdown"). And the compose
// file, parsed. The dist/ directories are the ones `pnpm test` builds first.
import { execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { access, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'
import pg from 'pg'
import { freePort, startPostgres } from '@authcenter/testkit'

const ROOT = fileURLToPath(new URL('../../..', import.meta.url))
const run = promisify(execFile)
const MOBILE = '+8613800000000'
const OTP = '123456'

// Two deploys (pnpm copies each service's production tree) and two process starts.
t.setTimeout(400_000)

async function deploy (dir: string, pkg: string): Promise<void> {
  await run('pnpm', ['--filter', pkg, 'deploy', '--prod', '--legacy', '--prefer-offline', dir], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 })
}

interface Proc { url: string, exited: Promise<number | null>, logged: (msg: string) => Promise<void>, kill: () => void }

async function startFrom (t: Test, dir: string, env: Record<string, string>, port?: number): Promise<Proc> {
  port ??= await freePort()
  // Only what the image sets: no pnpm, no tsx, no NODE_OPTIONS or npm_* of the test runner.
  const child = spawn(process.execPath, ['dist/server.js'], {
    cwd: dir,
    env: { PATH: '/usr/bin:/bin', HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  child.stdout.on('data', (b: Buffer) => { out += b.toString() })
  child.stderr.on('data', (b: Buffer) => { out += b.toString() })
  const exited = once(child, 'exit').then(([code]) => code as number | null)
  t.teardown(async () => { if (child.exitCode === null && child.signalCode === null) { child.kill('SIGKILL'); await exited } })
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 60_000
  while (await fetch(`${url}/readyz`).then((r) => r.status !== 200, () => true)) {
    if (child.exitCode !== null) throw new Error(`${dir}: exited with ${child.exitCode}: ${out}`)
    if (Date.now() > deadline) throw new Error(`${dir}: not ready within 60 s: ${out}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return {
    url,
    exited,
    logged: async (msg) => { while (!out.includes(`"msg":"${msg}"`)) await once(child.stdout, 'data') },
    kill: () => { child.kill('SIGTERM') }
  }
}

t.test('each service deployed with its production dependencies only starts, logs in, serves a token, and drains on SIGTERM', async (t) => {
  const tmp = await mkdtemp(join(tmpdir(), 'authcenter-deploy-'))
  t.teardown(() => rm(tmp, { recursive: true, force: true, maxRetries: 3 }))
  const authDir = join(tmp, 'auth-center')
  const usersDir = join(tmp, 'user-service')
  await deploy(authDir, '@authcenter/auth-center')
  await deploy(usersDir, '@authcenter/user-service')

  for (const dir of [authDir, usersDir]) {
    const manifest = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { devDependencies?: Record<string, string> }
    for (const dev of Object.keys(manifest.devDependencies ?? {})) {
      t.equal(await access(join(dir, 'node_modules', dev)).then(() => 'installed', () => 'absent'), 'absent', `${dir}: dev dependency ${dev} not installed`)
    }
    // The workspace verifier is a copy inside the deploy, not a link back into the checkout.
    const verifier = await readFile(join(dir, 'node_modules/@authcenter/verifier/package.json'), 'utf8')
    t.match(verifier, '"name": "@authcenter/verifier"')
  }

  const authPort = await freePort()
  const issuer = `http://127.0.0.1:${authPort}`
  const ac = await startFrom(t, authDir, { AUTH_ISSUER: issuer, AUTH_DATA_DIR: join(tmp, 'keys'), SMS_TEST_OTP: `${MOBILE}:${OTP}` }, authPort)
  t.equal(ac.url, issuer)
  // Profiles in PostgreSQL: the deploy carries the migrations the store applies at start.
  const postgres = await startPostgres()
  t.teardown(() => postgres.close())
  const databaseUrl = await postgres.newDatabase()
  const users = await startFrom(t, usersDir, { AUTH_ISSUER: issuer, AVATAR_DIR: join(tmp, 'avatars'), DATABASE_URL: databaseUrl, SHUTDOWN_DELAY: '3s' })

  const login = await fetch(`${issuer}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ mobile: MOBILE, code: OTP, device: { name: 'deploy-test' } })
  })
  t.equal(login.status, 200, 'login at the deployed auth center')
  const { access_token: token, user } = await login.json() as { access_token: string, user: { id: string } }
  const mine = await fetch(`${users.url}/user/mine`, { headers: { authorization: `Bearer ${token}` } })
  t.equal(mine.status, 200, 'the deployed user service accepts the token')
  t.equal((await mine.json() as { id: string }).id, user.id)
  const named = await fetch(`${users.url}/user/username`, {
    method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ username: 'deployed' })
  })
  t.equal(named.status, 200, 'a profile change is stored')
  const db = new pg.Client({ connectionString: databaseUrl })
  await db.connect()
  t.same((await db.query('SELECT id, username FROM profiles')).rows, [{ id: user.id, username: 'deployed' }], 'in PostgreSQL')
  await db.end()

  users.kill()
  await users.logged('shutting down: draining')
  const ready = await fetch(`${users.url}/readyz`, { headers: { connection: 'close' } })
  t.equal(ready.status, 503, 'the user service\'s /readyz says 503 while it drains')
  t.equal((await ready.json() as { code: string }).code, 'SHUTTING_DOWN')
  t.equal(await users.exited, 0, 'the user service drained and exited 0')
  ac.kill()
  t.equal(await ac.exited, 0, 'the auth center drained and exited 0')
})

t.test('docker-compose.yml: the demo cluster from the images, issuer http://localhost:4000, nothing installed at start', async (t) => {
  // No Docker engine (nor compose plugin) here: PyYAML parses it as compose would.
  const { stdout } = await run('python3', ['-c', 'import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))', join(ROOT, 'docker-compose.yml')])
  const compose = JSON.parse(stdout) as { services: Record<string, { build?: { target?: string }, image?: string, command?: unknown, environment?: Record<string, string>, volumes?: string[], ports?: string[], network_mode?: string }> }
  const services = compose.services
  t.same(Object.keys(services).sort(), ['auth-center-1', 'auth-center-2', 'postgres', 'proxy', 'redis', 'user-service', 'users-redis'])
  for (const name of ['auth-center-1', 'auth-center-2']) {
    const s = services[name]!
    t.equal(s.build?.target, 'auth-center', `${name} is built from the Dockerfile's auth-center stage`)
    t.equal(s.environment?.AUTH_ISSUER, 'http://localhost:4000')
    t.equal(s.environment?.REDIS_URL, 'redis://redis:6379', `${name} shares the Redis`)
    t.match(s.environment?.DATABASE_URL, /^postgres:\/\/.+@postgres:5432\//, `${name} shares the PostgreSQL`)
    t.equal(s.environment?.AUTH_KEK, '${AUTH_KEK:-}', `${name}: one AUTH_KEK for both`)
  }
  t.equal(services['user-service']!.build?.target, 'user-service')
  t.equal(services['user-service']!.environment?.AUTH_ISSUER, 'http://localhost:4000')
  t.match(services['user-service']!.environment?.DATABASE_URL, /^postgres:\/\/users:.+@postgres:5432\/users$/, 'the user service\'s own database')
  t.equal(services['user-service']!.network_mode, 'service:proxy', 'the user service reaches http://localhost:4000 through the proxy')
  t.same(services.proxy!.ports, ['4000:4000', '4001:4001'], 'one port for the auth center, and the user service\'s')
  for (const [name, s] of Object.entries(services)) {
    t.notOk((s.volumes ?? []).some((v) => /^\.{1,2}(\/)?:/.test(v) || v.startsWith('./:')), `${name} does not mount the checkout`)
    t.notMatch(JSON.stringify(s.command ?? ''), /pnpm|npm install/, `${name} installs nothing at start`)
  }
  const dockerfile = await readFile(join(ROOT, 'Dockerfile'), 'utf8')
  for (const stage of ['build', 'auth-center', 'user-service']) t.match(dockerfile, new RegExp(`^FROM .+ AS ${stage}$`, 'm'), `Dockerfile stage ${stage}`)
  t.match(dockerfile, /deploy --prod --legacy \/out\/auth-center/)
  t.match(dockerfile, /deploy --prod --legacy \/out\/user-service/)
  t.match(dockerfile, /^USER node$/m, 'non-root')
  t.match(dockerfile, /^ENTRYPOINT \["\/usr\/bin\/tini", "--"\]$/m, 'an init process forwards SIGTERM')
  t.match(dockerfile, /^HEALTHCHECK .+\n.+\/readyz/m)
})
