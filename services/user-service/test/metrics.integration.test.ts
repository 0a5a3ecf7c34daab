// GET /metrics on both services during a real flow (the real auth center and user
// service on ephemeral ports, the HTTP revocation feed between them, memory store and
// Redis): every counter moves by exactly what the flow did. Then the access rules.
import t, { type Test } from 'tap'
import { build as buildAuthCenter, loadConfig as loadAuthConfig } from '@authcenter/auth-center'
import { startRedis } from '@authcenter/testkit'
import { build } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { startPair } from './with-auth-center.js'

const J = { 'content-type': 'application/json' }
const TOKEN = 'metrics-scrape-token-0123456789'

/** The sample value of `name{labels}` in a Prometheus text exposition; 0 when absent. */
function sample (text: string, name: string, labels: Record<string, string> = {}): number {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`)
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (m === null || m[1] !== name) continue
    const have = m[2] === undefined || m[2] === '' ? [] : m[2].split(/,(?=[a-zA-Z_]+=")/)
    if (have.length === want.length && want.every((w) => have.includes(w))) return Number(m[3])
  }
  return 0
}

async function scrape (url: string, token?: string): Promise<string> {
  const r = await fetch(`${url}/metrics`, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } })
  if (r.status !== 200) throw new Error(`GET ${url}/metrics answered ${r.status}`)
  if (!(r.headers.get('content-type') ?? '').startsWith('text/plain')) throw new Error('not the Prometheus text format')
  return await r.text()
}

interface Login { access_token: string, refresh_token: string, session_id: string }

async function login (issuer: string, device: string, code = '123456'): Promise<{ status: number, body: Login }> {
  const r = await fetch(`${issuer}/auth/login`, { method: 'POST', headers: J, body: JSON.stringify({ mobile: '13800000000', code, device: { name: device } }) })
  return { status: r.status, body: await r.json() as Login }
}

async function refresh (issuer: string, refreshToken: string): Promise<{ status: number, body: Login & { code?: string } }> {
  const r = await fetch(`${issuer}/auth/refresh`, { method: 'POST', headers: J, body: JSON.stringify({ refresh_token: refreshToken }) })
  return { status: r.status, body: await r.json() as never }
}

async function mine (usersUrl: string, token: string): Promise<{ status: number, code?: string }> {
  const r = await fetch(`${usersUrl}/user/mine`, { headers: { authorization: `Bearer ${token}` } })
  const body = await r.json() as { code?: string }
  return { status: r.status, code: body.code }
}

const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

/** Polls (bounded) until `read` is true; the feed and its stream are asynchronous across processes. */
async function until (read: () => Promise<boolean>, ms = 5000): Promise<boolean> {
  const started = Date.now()
  while (Date.now() - started < ms) {
    if (await read()) return true
    await sleep(20)
  }
  return false
}

async function flow (t: Test, redisUrl?: string): Promise<void> {
  const { issuer, usersUrl } = await startPair(t, {
    // A refresh token presented again 1 ms after its rotation is a reuse, not the grace case.
    authEnv: { REFRESH_GRACE: '1ms', METRICS_TOKEN: TOKEN, ...(redisUrl !== undefined ? { REDIS_URL: redisUrl } : {}) }
  })
  // The user service has opened its revocation-feed stream: one connected verifier.
  t.ok(await until(async () => sample(await scrape(issuer, TOKEN), 'authcenter_revocation_feed_streams') === 1), 'one feed stream')

  const a0 = await scrape(issuer, TOKEN)
  const u0 = await scrape(usersUrl)
  const a = (text: string, name: string, labels?: Record<string, string>): number => sample(text, name, labels) - sample(a0, name, labels)
  const u = (text: string, name: string, labels?: Record<string, string>): number => sample(text, name, labels) - sample(u0, name, labels)

  // Auth center: three logins and a wrong code, an SMS sent and two refused, a rotation, a reuse, a kick.
  const phone = await login(issuer, 'phone')
  const tablet = await login(issuer, 'tablet')
  const laptop = await login(issuer, 'laptop')
  t.same([phone.status, tablet.status, laptop.status], [200, 200, 200])
  t.equal((await login(issuer, 'phone', '000000')).status, 400)
  const sms = async (mobile: string): Promise<number> => (await fetch(`${issuer}/auth/sms-code`, { method: 'POST', headers: J, body: JSON.stringify({ mobile }) })).status
  t.equal(await sms('13900000001'), 202)
  t.equal(await sms('13900000001'), 429, 'cooldown')
  t.equal(await sms('+12025550123'), 400, 'country not allowed')
  const rotated = await refresh(issuer, phone.body.refresh_token)
  t.equal(rotated.status, 200)
  await sleep(20)
  const reused = await refresh(issuer, phone.body.refresh_token)
  t.equal(reused.body.code, 'REFRESH_TOKEN_REUSED')
  t.equal((await fetch(`${issuer}/auth/sessions/${tablet.body.session_id}`, { method: 'DELETE', headers: { authorization: `Bearer ${laptop.body.access_token}` } })).status, 204)

  // User service: the laptop's token verifies (twice: a miss, then a cache hit); the kicked
  // tablet's is refused once the feed has brought the kick (200s until then, then one TOKEN_REVOKED).
  t.equal((await mine(usersUrl, laptop.body.access_token)).status, 200)
  t.equal((await mine(usersUrl, laptop.body.access_token)).status, 200)
  let tabletOk = 0
  let last: { status: number, code?: string } = { status: 0 }
  for (let i = 0; i < 250; i++) {
    last = await mine(usersUrl, tablet.body.access_token)
    if (last.status !== 200) break
    tabletOk++
    await sleep(20)
  }
  t.equal(last.code, 'TOKEN_REVOKED')
  t.equal((await mine(usersUrl, 'not-a-token')).code, 'TOKEN_MALFORMED')

  const a1 = await scrape(issuer, TOKEN)
  t.equal(a(a1, 'authcenter_logins_total', { outcome: 'success' }), 3)
  t.equal(a(a1, 'authcenter_logins_total', { outcome: 'INVALID_CODE' }), 1)
  t.equal(a(a1, 'authcenter_sms_sent_total'), 1)
  t.equal(a(a1, 'authcenter_sms_refused_total', { reason: 'cooldown' }), 1)
  t.equal(a(a1, 'authcenter_sms_refused_total', { reason: 'country_not_allowed' }), 1)
  t.equal(a(a1, 'authcenter_refreshes_total', { outcome: 'success' }), 1)
  t.equal(a(a1, 'authcenter_refreshes_total', { outcome: 'REFRESH_TOKEN_REUSED' }), 1)
  t.equal(a(a1, 'authcenter_refresh_token_reuse_total'), 1, 'one reuse detection')
  t.equal(a(a1, 'authcenter_revocations_total', { reason: 'refresh_token_reused' }), 1)
  t.equal(a(a1, 'authcenter_revocations_total', { reason: 'kicked' }), 1, 'one kick')
  t.equal(a(a1, 'authcenter_revocation_feed_lag_seconds_count'), 2, 'both revocations went through the feed')
  t.equal(sample(a1, 'authcenter_revocation_feed_streams'), 1)
  t.equal(a(a1, 'http_requests_total', { method: 'POST', route: '/auth/login', status_code: '200' }), 3)
  t.equal(a(a1, 'http_requests_total', { method: 'POST', route: '/auth/login', status_code: '400' }), 1)
  t.equal(a(a1, 'http_requests_total', { method: 'DELETE', route: '/auth/sessions/:id', status_code: '204' }), 1, 'the route pattern, not the URL')
  t.equal(a(a1, 'http_request_duration_seconds_count', { method: 'POST', route: '/auth/refresh', status_code: '401' }), 1)
  t.notOk(a1.includes(tablet.body.session_id), 'no session id in any label')
  t.ok(sample(a1, 'authcenter_store_operation_duration_seconds_count', { operation: 'revokeSession' }) >= 1, 'store calls are timed')
  t.equal(a(a1, 'authcenter_store_errors_total', { operation: 'revokeSession' }), 0)

  const u1 = await scrape(usersUrl)
  t.equal(u(u1, 'verifier_verifications_total', { outcome: 'OK' }), 2 + tabletOk)
  t.equal(u(u1, 'verifier_verifications_total', { outcome: 'TOKEN_REVOKED' }), 1, 'one refusal, counted under its code')
  t.equal(u(u1, 'verifier_verifications_total', { outcome: 'TOKEN_MALFORMED' }), 1)
  // One lookup per string token (before any parsing): the laptop's twice, the tablet's each time, the malformed one.
  t.equal(u(u1, 'verifier_cache_lookups_total', { result: 'hit' }) + u(u1, 'verifier_cache_lookups_total', { result: 'miss' }), 4 + tabletOk)
  t.equal(u(u1, 'verifier_cache_lookups_total', { result: 'miss' }), 3, 'one miss per distinct token')
  t.equal(sample(u1, 'verifier_jwks_fetches_total', { result: 'ok' }), 1)
  t.equal(sample(u1, 'verifier_jwks_fetches_total', { result: 'error' }), 0)
  t.equal(sample(u1, 'verifier_revocation_stale_seconds'), 0, 'the list is fresh')
  t.equal(u(u1, 'http_requests_total', { method: 'GET', route: '/user/mine', status_code: '401' }), 2)
}

t.test('counters during a real flow (memory store)', async (t) => { await flow(t) })

t.test('counters during a real flow (Redis)', async (t) => {
  const redis = await startRedis()
  t.teardown(() => redis.close())
  await flow(t, redis.url)
})

t.test('METRICS_TOKEN: 401 METRICS_UNAUTHORIZED without it or with a wrong one, on both services', async (t) => {
  const { issuer, usersUrl } = await startPair(t, { authEnv: { METRICS_TOKEN: TOKEN }, usersEnv: { METRICS_TOKEN: TOKEN } })
  for (const url of [issuer, usersUrl]) {
    for (const headers of [{} as Record<string, string>, { authorization: 'Bearer wrong-token-wrong-token-0' }, { authorization: `Basic ${TOKEN}` }, { authorization: `Bearer ${TOKEN}x` }]) {
      const r = await fetch(`${url}/metrics`, { headers })
      t.equal(r.status, 401)
      const body = await r.json() as Record<string, unknown>
      t.same(Object.keys(body).sort(), ['code', 'error', 'message', 'statusCode'])
      t.equal(body.code, 'METRICS_UNAUTHORIZED')
      t.equal(r.headers.get('www-authenticate'), 'Bearer realm="metrics"')
    }
    t.equal((await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).status, 200)
  }
})

t.test('NODE_ENV=production: 404 without METRICS_TOKEN, open with METRICS_PUBLIC=true, on both services', async (t) => {
  const prod = { NODE_ENV: 'production', LOG_LEVEL: 'silent' }
  for (const metricsPublic of [undefined, 'true'] as const) {
    const env = metricsPublic === undefined ? prod : { ...prod, METRICS_PUBLIC: metricsPublic }
    const auth = await buildAuthCenter(loadAuthConfig({ ...env, SMS_SENDER: 'webhook', SMS_WEBHOOK_URL: 'http://127.0.0.1:9/sms', AUTH_DATA_DIR: t.testdir() }))
    t.teardown(() => auth.close())
    const users = await build(loadConfig({ ...env, AUTH_ISSUER: 'http://127.0.0.1:9', REVOCATION_CLIENT_ID: 'r', REVOCATION_CLIENT_SECRET: 's', AVATAR_DIR: t.testdir() + '/avatars' }))
    t.teardown(() => users.close())
    for (const app of [auth, users]) {
      const url = await app.listen({ host: '127.0.0.1', port: 0 })
      t.equal((await fetch(`${url}/metrics`)).status, metricsPublic === undefined ? 404 : 200, `${metricsPublic ?? 'no METRICS_PUBLIC'}`)
    }
  }
})

t.test('config: METRICS_TOKEN and METRICS_PUBLIC are checked, the token never shown', async (t) => {
  t.throws(() => loadConfig({ METRICS_TOKEN: 'short' }), { message: /^invalid environment: METRICS_TOKEN must be .* \(got "\(not shown\)"\)$/ })
  t.throws(() => loadConfig({ METRICS_PUBLIC: 'yes' }), { message: /METRICS_PUBLIC must be true or false/ })
  t.throws(() => loadAuthConfig({ METRICS_TOKEN: 'short secret' }), { message: 'METRICS_TOKEN: expected at least 16 printable characters without spaces (value not shown)' })
  t.throws(() => loadAuthConfig({ METRICS_PUBLIC: 'yes' }), { message: /^METRICS_PUBLIC: expected one of true, false/ })
  t.equal(loadConfig({ METRICS_TOKEN: TOKEN }).metricsToken, TOKEN)
  t.equal(loadAuthConfig({ METRICS_PUBLIC: 'true' }).metricsPublic, true)
})
