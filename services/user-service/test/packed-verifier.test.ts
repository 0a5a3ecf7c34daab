// The verifier as another team gets it: packed with the command its README gives, installed
// with plain npm into a directory outside the workspace, and the README's two service
// snippets (Fastify, node:http) run from there against a real auth center.
import t, { type Test } from 'tap'
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { build as buildAuthCenter, loadConfig as loadAuthConfig } from '@authcenter/auth-center'
import { freePort } from '@authcenter/testkit'

const run = promisify(execFile)
// npm as a user runs it: under `pnpm test`, pnpm's npm_* variables (npm_config_user_agent
// above all) would make npm look like pnpm to the verifier's prepack check.
const plainEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_')))
const verifierDir = fileURLToPath(new URL('../../../packages/verifier/', import.meta.url))
const readme = readFileSync(join(verifierDir, 'README.md'), 'utf8')
const J = { 'content-type': 'application/json' }

// Beyond .taprc's 120 s: pnpm pack (a tsc build) and an npm install from the registry take minutes on a loaded machine.
t.setTimeout(600_000)

/** The ```js blocks of the README whose first line names a file: `// fastify-service.mjs`. */
function snippets (): Map<string, string> {
  const files = new Map<string, string>()
  for (const m of readme.matchAll(/^```js\n\/\/ ([\w-]+\.mjs)\n([\s\S]*?)^```$/gm)) files.set(m[1]!, m[2]!)
  return files
}

/** What the tarball must hold: the built modules and their types, nothing else from dist/. */
function expectedFiles (): string[] {
  const modules = (readdirSync(join(verifierDir, 'src'), { recursive: true }) as string[]).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3))
  return ['CHANGELOG.md', 'LICENSE', 'README.md', 'package.json', ...modules.flatMap((m) => [`dist/${m}.d.ts`, `dist/${m}.js`])].sort()
}

async function listFiles (dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  return entries.filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name))).sort()
}

/** Starts `node <file>` in `cwd`; resolves once it answers HTTP. Killed with the test. */
async function startSnippet (t: Test, cwd: string, file: string, env: Record<string, string>): Promise<string> {
  const port = await freePort()
  const child: ChildProcess = spawn(process.execPath, [file], { cwd, env: { PATH: process.env.PATH ?? '', PORT: String(port), ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout?.on('data', (d: Buffer) => { output += d.toString() })
  child.stderr?.on('data', (d: Buffer) => { output += d.toString() })
  t.teardown(() => { child.kill('SIGKILL') })
  const url = `http://127.0.0.1:${port}`
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`${file} exited with ${child.exitCode}: ${output}`)
    const ok = await fetch(`${url}/me`).then(() => true, () => false)
    if (ok) return url
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`${file} did not answer within 20 s: ${output}`)
}

async function me (url: string, token?: string): Promise<{ status: number, body: Record<string, unknown>, challenge: string | null }> {
  const r = await fetch(`${url}/me`, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } })
  return { status: r.status, body: await r.json() as Record<string, unknown>, challenge: r.headers.get('www-authenticate') }
}

t.test('the packed verifier installs with npm outside the workspace and the README services accept, refuse and revoke', async (t) => {
  t.match(readme, 'cd packages/verifier && pnpm pack', 'the README gives the pack command this test runs')
  const work = await mkdtemp(join(tmpdir(), 'ac-packed-verifier-'))
  t.teardown(() => rm(work, { recursive: true, force: true }))

  // npm pack would keep catalog:/workspace: versions that npm cannot install: it stops and says what to use.
  const npmPack = await run('npm', ['pack', '--dry-run'], { cwd: verifierDir, env: plainEnv, timeout: 60_000 }).then(() => undefined, (err: { stderr?: string }) => err)
  t.ok(npmPack, 'npm pack fails')
  t.match(npmPack?.stderr, 'pack it with `pnpm pack`')

  // pnpm pack, as the README says (into our directory, so the tree stays clean); prepack builds dist/.
  await run('pnpm', ['pack', '--pack-destination', work], { cwd: verifierDir, timeout: 180_000 })
  const tarball = (await readdir(work)).find((f) => f.endsWith('.tgz'))
  t.ok(tarball, 'a tarball was written')
  const unpacked = join(work, 'unpacked')
  await run('mkdir', [unpacked])
  await run('tar', ['xzf', join(work, tarball!), '-C', unpacked])
  t.same(await listFiles(join(unpacked, 'package')), expectedFiles(), 'exactly the built modules, their types and the docs: no .tsbuildinfo, no source maps')
  const manifest = JSON.parse(readFileSync(join(unpacked, 'package', 'package.json'), 'utf8')) as Record<string, Record<string, unknown>>
  t.notMatch(JSON.stringify(manifest), /catalog:|workspace:|@authcenter\/source/, 'no workspace-only specifiers or conditions')
  t.same(Object.keys(manifest.dependencies ?? {}), ['fastify-plugin'], 'only what the built code imports')
  t.ok(manifest.license && manifest.repository && manifest.engines, 'license, repository, engines')

  // Plain npm, in a directory outside the workspace: the package and fastify, nothing else.
  const app = join(work, 'app')
  await run('mkdir', [app])
  await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'downstream', private: true, type: 'module' }))
  await run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', join(work, tarball!), 'fastify'], { cwd: app, env: plainEnv, timeout: 300_000 })
  t.ok(existsSync(join(app, 'node_modules/fastify-plugin')), 'fastify-plugin came as a dependency')
  t.notOk(existsSync(join(app, 'node_modules/jose')), 'jose is not installed')

  const files = snippets()
  t.same([...files.keys()].sort(), ['fastify-service.mjs', 'http-service.mjs'])
  for (const [name, code] of files) await writeFile(join(app, name), code)

  const port = await freePort()
  const issuer = `http://127.0.0.1:${port}`
  const auth = await buildAuthCenter(loadAuthConfig({
    AUTH_ISSUER: issuer, AUTH_DATA_DIR: join(work, 'keys'), SMS_TEST_OTP: '+8613800000000:123456', LOG_LEVEL: 'silent'
  }))
  t.teardown(() => auth.close())
  await auth.listen({ host: '127.0.0.1', port })

  // The auth center's built-in development reader of its revocation feed (HTTP, across processes).
  const env = { AUTH_ISSUER: issuer, REVOCATION_CLIENT_ID: 'dev-revocations', REVOCATION_CLIENT_SECRET: 'dev-revocations-secret-not-for-production' }
  const services = { fastify: await startSnippet(t, app, 'fastify-service.mjs', env), http: await startSnippet(t, app, 'http-service.mjs', env) }

  const r = await fetch(`${issuer}/auth/login`, { method: 'POST', headers: J, body: JSON.stringify({ mobile: '13800000000', code: '123456' }) })
  t.equal(r.status, 200)
  const login = await r.json() as { access_token: string, user: { id: string } }

  for (const [name, url] of Object.entries(services)) {
    t.same(await me(url, login.access_token), { status: 200, body: { id: login.user.id }, challenge: null }, `${name}: accepts the token`)
    const missing = await me(url)
    t.equal(missing.status, 401, `${name}: no token`)
    t.equal(missing.body.code, 'TOKEN_MISSING')
    const bad = await me(url, 'nonsense')
    t.equal(bad.status, 401, `${name}: a bad token`)
    t.equal(bad.body.code, 'TOKEN_MALFORMED')
    t.match(bad.challenge, /^Bearer .*error="invalid_token"/)
  }

  const out = await fetch(`${issuer}/auth/logout`, { method: 'POST', headers: { authorization: `Bearer ${login.access_token}` } })
  t.equal(out.status, 204)
  for (const [name, url] of Object.entries(services)) {
    // The feed reaches other processes asynchronously: poll, bounded.
    let answer = await me(url, login.access_token)
    for (let i = 0; i < 100 && answer.status === 200; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50))
      answer = await me(url, login.access_token)
    }
    t.equal(answer.status, 401, `${name}: the logged-out token is refused`)
    t.equal(answer.body.code, 'TOKEN_REVOKED')
  }
})
