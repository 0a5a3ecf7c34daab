import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createHash } from 'node:crypto'
import { build as buildAuthCenter, loadConfig as loadAuthConfig } from '@authcenter/auth-center'
import { build as buildUsers, loadConfig as loadUsersConfig } from '@authcenter/user-service'
import { freePort } from '@authcenter/testkit'
import Fastify from 'fastify'
import verifierPlugin from '@authcenter/verifier/fastify'

export const MOBILE = '+8613800000000'
export const OTP = '123456'
export const REPORTS_SECRET = 'reports-secret-that-is-long-enough-0123456789'

/** The first-party clients the tests use, one per token policy. */
export const CLIENTS = [
  { client_id: 'app', policy: { binding: 'dpop' } },
  { client_id: 'web', policy: { binding: 'cookie' } },
  { client_id: 'admin-web', policy: { sliding: { idle: '3s', max: '1h' } } },
  { client_id: 'legacy-tv', policy: { refresh: false, accessTtl: '2s' } },
  {
    client_id: 'reports', type: 'confidential', client_secret_sha256: createHash('sha256').update(REPORTS_SECRET).digest('hex'),
    grant_types: ['client_credentials'], scope: 'reports'
  }
]

export interface Stack {
  /** The auth center's issuer (also where it listens, unless a front origin was given). */
  issuer: string
  authUrl: string
  usersUrl: string
  auth: Awaited<ReturnType<typeof buildAuthCenter>>
}

interface Teardown { teardown: (fn: () => unknown) => void }

/**
 * The real auth center (memory store) and the real user service (following the
 * auth center's in-process revocation feed), on 127.0.0.1 ephemeral ports.
 * `issuer` may name a front origin (the browser test's same-origin proxy).
 */
export async function startStack (t: Teardown, opts: { authEnv?: Record<string, string>, usersEnv?: Record<string, string>, issuer?: string } = {}): Promise<Stack> {
  const dir = await mkdtemp(join(tmpdir(), 'ac-client-'))
  const clientsFile = join(dir, 'clients.json')
  await writeFile(clientsFile, JSON.stringify({ clients: CLIENTS }))
  const port = await freePort()
  const authUrl = `http://127.0.0.1:${port}`
  const issuer = opts.issuer ?? authUrl
  const auth = await buildAuthCenter(loadAuthConfig({
    AUTH_ISSUER: issuer, AUTH_DATA_DIR: join(dir, 'keys'), SMS_TEST_OTP: `${MOBILE}:${OTP},+8613800138000:${OTP}`, LOG_LEVEL: 'silent',
    AUTH_CLIENTS_FILE: clientsFile, AUTH_ADMIN_TOKEN: 'admin-token-for-the-client-tests', ...opts.authEnv
  }))
  await auth.listen({ host: '127.0.0.1', port })
  const users = await buildUsers(loadUsersConfig({ AUTH_ISSUER: issuer, AVATAR_DIR: join(dir, 'avatars'), LOG_LEVEL: 'silent', ...opts.usersEnv }),
    // The verifier takes the in-process feed ({load, subscribe}) as a source; the cast bridges the user service's
    // BuildOptions type while the revocation transports change (issue #11).
    { revocationSource: auth.revocationFeed as never })
  const usersUrl = await users.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(async () => {
    await users.close()
    await auth.close()
    await rm(dir, { recursive: true, force: true })
  })
  return { issuer, authUrl, usersUrl, auth }
}

/** Revokes every session of a user through the admin API, as an operator would. */
export async function adminLogout (stack: Stack, userId: string): Promise<void> {
  const res = await fetch(`${stack.authUrl}/admin/users/${userId}/logout`, { method: 'POST', headers: { authorization: 'Bearer admin-token-for-the-client-tests' } })
  if (res.status !== 200) throw new Error(`admin logout: ${res.status} ${await res.text()}`)
}

/** A `fetch` that records the path (and the answer's status) of every request. */
export function recordingFetch (): { fetch: typeof fetch, paths: string[], count: (path: string) => number, statuses: (path: string) => number[] } {
  const paths: string[] = []
  const seen: { path: string, status: number }[] = []
  return {
    paths,
    count: (path) => paths.filter((p) => p === path).length,
    statuses: (path) => seen.filter((s) => s.path === path).map((s) => s.status),
    fetch: async (input, init) => {
      const url = new URL(input instanceof Request ? input.url : input)
      paths.push(url.pathname)
      const res = await fetch(input, init)
      seen.push({ path: url.pathname, status: res.status })
      return res
    }
  }
}

/**
 * "Another service" for service-to-service calls: a Fastify app behind the verifier's
 * plugin whose route wants a client-credentials token with scope `reports`.
 */
export async function startReportsService (t: Teardown, issuer: string): Promise<string> {
  const app = Fastify()
  await app.register(verifierPlugin, { issuer, audience: 'authcenter' })
  app.get('/reports/daily', { onRequest: app.authenticate({ scope: 'reports' }) }, async (request) => ({ caller: request.auth.sub, kind: request.auth.kind }))
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => app.close())
  return url
}
