import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { createVerifier, type Verifier } from '@authcenter/verifier'
import { build, loadConfig } from '../../src/app.js'
import { DEV_REVOCATION_CLIENT_ID, DEV_REVOCATION_CLIENT_SECRET } from '../../src/revocations/dev-client.js'
import { CapturingSender, TEST_MOBILE, TEST_OTP } from '../helpers/auth-center.js'

export { DEV_REVOCATION_CLIENT_ID, DEV_REVOCATION_CLIENT_SECRET }
export const ADMIN = 'feed-test-admin-credential-0123'

export async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

/**
 * A TCP proxy standing for a load balancer in front of the auth center: `target` picks
 * the replica, `cut()` drops every connection (a network failure), `refuse` makes new
 * connections fail until cleared.
 */
export interface Proxy {
  url: string
  port: number
  target: number
  refuse: boolean
  cut: () => void
  close: () => Promise<void>
}

export async function startProxy (t: Test, port: number, target: number): Promise<Proxy> {
  const sockets = new Set<Socket>()
  const proxy: Proxy = {
    url: `http://127.0.0.1:${port}`,
    port,
    target,
    refuse: false,
    cut () { for (const s of sockets) s.destroy() },
    async close () {
      proxy.cut()
      await new Promise((resolve) => server.close(resolve))
    }
  }
  const server: Server = createServer((client) => {
    if (proxy.refuse) return client.destroy()
    const upstream = connect(proxy.target, '127.0.0.1')
    sockets.add(client)
    sockets.add(upstream)
    const drop = (): void => { client.destroy(); upstream.destroy(); sockets.delete(client); sockets.delete(upstream) }
    client.on('error', drop).on('close', drop)
    upstream.on('error', drop).on('close', drop)
    client.pipe(upstream)
    upstream.pipe(client)
  })
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  t.teardown(() => proxy.close())
  return proxy
}

export interface FeedAuthCenter {
  app: FastifyInstance
  port: number
  /** GET /revocations answered with 200, on this replica. */
  snapshots: number
  close: () => Promise<void>
}

/**
 * The real auth center on a port of its own, with `issuer` as AUTH_ISSUER (the proxy's
 * URL when there is one, so that the metadata's endpoints lead through it).
 */
export async function startFeedAuthCenter (t: Test, opts: { issuer?: string, port?: number, env?: Record<string, string> } = {}): Promise<FeedAuthCenter> {
  const port = opts.port ?? await freePort()
  const dataDir = await mkdtemp(join(tmpdir(), 'authcenter-feed-'))
  const config = loadConfig({
    AUTH_ISSUER: opts.issuer ?? `http://127.0.0.1:${port}`,
    AUTH_DATA_DIR: dataDir,
    SMS_TEST_OTP: `${TEST_MOBILE}:${TEST_OTP}`,
    AUTH_ADMIN_TOKEN: ADMIN,
    LOG_LEVEL: 'silent',
    ...opts.env
  })
  const app = await build(config, { sms: new CapturingSender(), revocationHeartbeatMs: 200, logger: false })
  const running: FeedAuthCenter = {
    app,
    port,
    snapshots: 0,
    async close () {
      await app.close()
      await rm(dataDir, { recursive: true, force: true, maxRetries: 3 })
    }
  }
  app.addHook('onResponse', async (request, reply) => {
    if (request.url === '/revocations' && reply.statusCode === 200) running.snapshots++
  })
  await app.listen({ host: '127.0.0.1', port })
  let closed = false
  const close = running.close
  running.close = async () => { if (!closed) { closed = true; await close() } }
  t.teardown(() => running.close())
  return running
}

/** A verifier following the HTTP feed with the built-in development reader. */
export function feedVerifier (t: Test, issuer: string, extra: Record<string, unknown> = {}): Verifier {
  const verify = createVerifier({
    issuer,
    audience: 'authcenter',
    revocation: {
      clientId: DEV_REVOCATION_CLIENT_ID,
      clientSecret: DEV_REVOCATION_CLIENT_SECRET,
      logger: { info () {}, warn () {}, error () {} },
      ...extra
    }
  })
  t.teardown(() => verify.close())
  return verify
}

export const J = { 'content-type': 'application/json' }

export async function login (base: string, device = 'phone'): Promise<{ access_token: string, session_id: string, user: { id: string } }> {
  const r = await fetch(`${base}/auth/login`, { method: 'POST', headers: J, body: JSON.stringify({ mobile: TEST_MOBILE, code: TEST_OTP, device: { name: device } }) })
  if (r.status !== 200) throw new Error(`login: ${r.status} ${await r.text()}`)
  return await r.json() as never
}

export async function clientToken (base: string, id: string, secret: string, scope?: string): Promise<string> {
  const body = new URLSearchParams({ grant_type: 'client_credentials', ...(scope !== undefined ? { scope } : {}) })
  const r = await fetch(`${base}/oauth/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body
  })
  const json = await r.json() as { access_token?: string }
  if (json.access_token === undefined) throw new Error(`token: ${r.status} ${JSON.stringify(json)}`)
  return json.access_token
}

/** What the verifier answers for a token: 'ok' or the error code. */
export async function verdict (verify: Verifier, token: string): Promise<string> {
  try {
    await verify(token)
    return 'ok'
  } catch (err) {
    return (err as { code?: string }).code ?? String(err)
  }
}

/** Polls until the verifier answers `code` for the token (the feed is asynchronous); returns the last answer. */
export async function until (verify: Verifier, token: string, code: string, ms = 3000): Promise<string> {
  const started = Date.now()
  for (;;) {
    const v = await verdict(verify, token)
    if (v === code || Date.now() - started > ms) return v
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}
