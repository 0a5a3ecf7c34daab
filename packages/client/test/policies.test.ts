import t from 'tap'
import { generateKeyPairSync } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { createClient } from '../src/index.js'
import { clientCredentials, dpopKeyPair } from '../src/node.js'
import { MOBILE, OTP, REPORTS_SECRET, recordingFetch, startReportsService, startStack } from './helpers/stack.js'

/** Each token policy of the auth center, as the SDK meets it. */
t.test('token policies', async (t) => {
  const stack = await startStack(t, { authEnv: { ACCESS_TOKEN_TTL: '1s' } })
  const { issuer, usersUrl } = stack

  t.test('DPoP in Node: a KeyObject signs the proofs for login, refresh, the user service and logout', async (t) => {
    const rec = recordingFetch()
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const auth = createClient({ issuer, clientId: 'app', dpop: await dpopKeyPair(privateKey), fetch: rec.fetch, autoRefresh: false })
    t.teardown(() => { auth.close() })
    await auth.loginWithCode(MOBILE, OTP)
    const token = await auth.getAccessToken()
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { cnf?: { jkt?: string } }
    t.match(claims.cnf?.jkt, /^[A-Za-z0-9_-]{43}$/, 'the token is bound to the key')
    t.equal((await auth.fetch(`${usersUrl}/user/mine`)).status, 200)
    const copied = await fetch(`${usersUrl}/user/mine`, { headers: { authorization: `Bearer ${token}` } })
    t.equal(copied.status, 401, 'the same token without the key is refused')
    await sleep(1100)
    t.equal((await auth.fetch(`${usersUrl}/user/mine`)).status, 200, 'after a bound refresh')
    t.equal(rec.count('/auth/refresh'), 1)
    await auth.logout()
    t.same(rec.statuses('/auth/logout'), [204], 'the bound token logged out with its proof')
  })

  t.test('a sliding session renews at /auth/slide, never at /auth/refresh', async (t) => {
    const rec = recordingFetch()
    const auth = createClient({ issuer, clientId: 'admin-web', fetch: rec.fetch, autoRefresh: false })
    t.teardown(() => { auth.close() })
    const info = await auth.loginWithCode(MOBILE, OTP)
    t.equal(info.kind, 'sliding')
    const first = await auth.getAccessToken()
    await sleep(3100) // the 3 s idle window
    t.equal((await auth.fetch(`${usersUrl}/user/mine`)).status, 200)
    t.not(await auth.getAccessToken(), first)
    t.equal(rec.count('/auth/slide'), 1)
    t.equal(rec.count('/auth/refresh'), 0)
  })

  t.test('a single-token client never refreshes: after expiry it is logged out with TOKEN_EXPIRED', async (t) => {
    const rec = recordingFetch()
    const auth = createClient({ issuer, clientId: 'legacy-tv', fetch: rec.fetch })
    t.teardown(() => { auth.close() })
    const info = await auth.loginWithCode(MOBILE, OTP)
    t.equal(info.kind, 'single')
    t.equal((await auth.fetch(`${usersUrl}/user/mine`)).status, 200)
    const reasons: string[] = []
    auth.on('logout', (e) => { reasons.push(e.reason) })
    await sleep(2100)
    await t.rejects(auth.getAccessToken(), { code: 'TOKEN_EXPIRED' })
    t.same(reasons, ['TOKEN_EXPIRED'])
    t.equal(rec.count('/auth/refresh'), 0)
    t.equal(rec.count('/auth/slide'), 0)
  })

  t.test('password login', async (t) => {
    const auth = createClient({ issuer, autoRefresh: false })
    t.teardown(() => { auth.close() })
    await auth.loginWithCode(MOBILE, OTP)
    const set = await auth.fetch(`${issuer}/auth/password`, {
      method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ new_password: 'correct horse battery', code: OTP })
    })
    t.equal(set.status, 204)
    const other = createClient({ issuer, autoRefresh: false })
    t.teardown(() => { other.close() })
    await t.rejects(other.loginWithPassword(MOBILE, 'wrong horse battery'), { code: 'INVALID_CREDENTIALS', status: 401 })
    t.equal((await other.loginWithPassword(MOBILE, 'correct horse battery')).mobile, MOBILE)
  })

  t.test('client credentials: one token request while the token lives, a new one near expiry', async (t) => {
    const rec = recordingFetch()
    const reportsUrl = await startReportsService(t, issuer)
    const robot = clientCredentials({ issuer, clientId: 'reports', clientSecret: REPORTS_SECRET, scope: 'reports', fetch: rec.fetch })
    const [a, b] = await Promise.all([robot.getAccessToken(), robot.getAccessToken()])
    t.equal(a, b)
    t.equal(rec.count('/oauth/token'), 1, 'single flight')
    const res = await robot.fetch(`${reportsUrl}/reports/daily`)
    t.equal(res.status, 200)
    t.match(await res.json(), { caller: /reports/, kind: 'client' })
    t.equal(rec.count('/oauth/token'), 1, 'cached')
    await sleep(1000)
    t.not(await robot.getAccessToken(), a, 'renewed before or at expiry')
    t.equal(rec.count('/oauth/token'), 2)
    const bad = clientCredentials({ issuer, clientId: 'reports', clientSecret: 'wrong-secret' })
    await t.rejects(bad.getAccessToken(), { code: 'invalid_client', status: 401 })
  })

  t.test('origins: the access token goes only where it is allowed to', async (t) => {
    const rec = recordingFetch()
    const auth = createClient({ issuer, origins: [new URL(usersUrl).origin], fetch: rec.fetch, autoRefresh: false })
    t.teardown(() => { auth.close() })
    await auth.loginWithCode(MOBILE, OTP)
    t.equal((await auth.fetch(`${usersUrl}/user/mine`)).status, 200)
    t.equal((await auth.fetch(`${issuer}/auth/sessions`)).status, 200, 'the issuer is always allowed')
    await t.rejects(auth.fetch('http://127.0.0.1:9/steal'), TypeError)
    t.equal(rec.paths.filter((p) => p === '/steal').length, 0, 'nothing was sent')
    t.throws(() => createClient({ issuer, origins: ['http://x/path'] }), TypeError)
  })

  t.test('misuse is a TypeError', async (t) => {
    t.throws(() => createClient({ issuer: 'auth.example.com' }), TypeError)
    t.throws(() => createClient({ issuer, clientId: '' }), TypeError)
    t.throws(() => clientCredentials({ issuer, clientId: 'reports', clientSecret: '' }), TypeError)
    const auth = createClient({ issuer })
    t.throws(() => auth.on('login' as 'logout', () => {}), TypeError)
    auth.close()
  })
})
