// The root `pnpm start` (scripts/start.mjs): both services from their sources, each on its own
// port variable, the user service pointed at the auth center's port by itself.
import t, { type Test } from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort } from '@authcenter/testkit'

const script = fileURLToPath(new URL('../../../scripts/start.mjs', import.meta.url))
const J = { 'content-type': 'application/json' }

// Beyond .taprc's 120 s: each case starts two services from their sources (tsx).
t.setTimeout(300_000)

interface Started { child: ChildProcess, output: () => string, exited: Promise<number | null> }

async function start (t: Test, env: Record<string, string>): Promise<Started> {
  const dir = await mkdtemp(join(tmpdir(), 'ac-start-'))
  const child = spawn(process.execPath, [script], {
    env: { PATH: process.env.PATH ?? '', AUTH_DATA_DIR: join(dir, 'keys'), AVATAR_DIR: join(dir, 'avatars'), LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let output = ''
  child.stdout?.on('data', (d: Buffer) => { output += d.toString() })
  child.stderr?.on('data', (d: Buffer) => { output += d.toString() })
  const exited = once(child, 'exit').then(([code]) => code as number | null)
  t.teardown(async () => {
    if (child.exitCode === null) { child.kill('SIGTERM'); await exited }
    await rm(dir, { recursive: true, force: true })
  })
  return { child, output: () => output, exited }
}

/** Polls `url` until it answers (any status); bounded. */
async function answers (url: string, started: Started): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (started.child.exitCode !== null) throw new Error(`start.mjs exited: ${started.output()}`)
    if (await fetch(url).then(() => true, () => false)) return
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`${url} did not answer within 60 s: ${started.output()}`)
}

async function listening (port: number): Promise<boolean> {
  return await fetch(`http://127.0.0.1:${port}/`).then(() => true, () => false)
}

t.test('AUTH_CENTER_PORT and USER_SERVICE_PORT place each service, and the user service finds the auth center (keys and revocations)', async (t) => {
  const [authPort, usersPort, plainPort] = [await freePort(), await freePort(), await freePort()]
  const started = await start(t, {
    AUTH_CENTER_PORT: String(authPort), USER_SERVICE_PORT: String(usersPort), PORT: String(plainPort), SMS_TEST_OTP: '+8613800000000:123456'
  })
  await answers(`http://127.0.0.1:${authPort}/healthz`, started)
  await answers(`http://127.0.0.1:${usersPort}/user/mine`, started)
  t.notOk(await listening(plainPort), 'PORT is not used by either service')
  t.match(started.output(), `PORT=${plainPort} is ignored`, 'and a line says so')

  const login = await fetch(`http://127.0.0.1:${authPort}/auth/login`, { method: 'POST', headers: J, body: JSON.stringify({ mobile: '13800000000', code: '123456' }) })
  t.equal(login.status, 200)
  const { access_token: token, user } = await login.json() as { access_token: string, user: { id: string } }
  // The user service discovered the JWKS at http://localhost:<AUTH_CENTER_PORT> without being told.
  const mine = await fetch(`http://127.0.0.1:${usersPort}/user/mine`, { headers: { authorization: `Bearer ${token}` } })
  t.equal(mine.status, 200)
  t.equal((await mine.json() as { id: string }).id, user.id)
  // ... and follows its revocation feed there: a logout reaches it (polled, bounded).
  const out = await fetch(`http://127.0.0.1:${authPort}/auth/logout`, { method: 'POST', headers: { authorization: `Bearer ${token}` } })
  t.equal(out.status, 204)
  let after = await fetch(`http://127.0.0.1:${usersPort}/user/mine`, { headers: { authorization: `Bearer ${token}` } })
  for (let i = 0; i < 100 && after.status === 200; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50))
    after = await fetch(`http://127.0.0.1:${usersPort}/user/mine`, { headers: { authorization: `Bearer ${token}` } })
  }
  t.equal(after.status, 401)
  t.equal((await after.json() as { code: string }).code, 'TOKEN_REVOKED', 'the logout reached the user service')

  started.child.kill('SIGTERM')
  t.equal(await started.exited, 0, 'SIGTERM stops both and exits 0')
  t.notOk(await listening(authPort), 'the auth center is stopped')
  t.notOk(await listening(usersPort), 'the user service is stopped')
})

t.test('when one service cannot start (its port is taken) the other is stopped and the exit code is not 0', async (t) => {
  const taken = createServer()
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { taken.close() })
  const usersPort = (taken.address() as { port: number }).port
  const authPort = await freePort()
  const started = await start(t, { AUTH_CENTER_PORT: String(authPort), USER_SERVICE_PORT: String(usersPort) })
  const code = await started.exited
  t.not(code, 0)
  t.match(started.output(), 'user-service exited')
  t.notOk(await listening(authPort), 'the auth center is not left running')
})

t.test('a bad port variable stops with one line naming it', async (t) => {
  const started = await start(t, { AUTH_CENTER_PORT: '99999' })
  t.equal(await started.exited, 1)
  t.equal(started.output().trim(), 'AUTH_CENTER_PORT: must be a port number 1-65535 (got "99999")')
})
