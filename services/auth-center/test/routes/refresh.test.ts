import t from 'tap'
import { startRedis } from '@authcenter/testkit'
import { eachDriver } from '../helpers/drivers.js'
import { sleep, startAuthCenter, TEST_MOBILE, TEST_OTP } from '../helpers/auth-center.js'

eachDriver(t, async (t, env) => {
  const ac = await startAuthCenter(env)
  t.teardown(() => ac.close())
  const login = async () => (await ac.call('POST', '/auth/login', { mobile: TEST_MOBILE, code: TEST_OTP })).body
  const refresh = (token: string) => ac.call('POST', '/auth/refresh', { refresh_token: token })

  t.test('rotates on every use: a new access token and a new refresh token', async (t) => {
    const l = await login()
    const r1 = await refresh(l.refresh_token)
    t.equal(r1.status, 200)
    t.not(r1.body.refresh_token, l.refresh_token)
    t.not(r1.body.access_token, l.access_token)
    t.equal(r1.body.session_id, l.session_id)
    t.equal(r1.body.token_type, 'Bearer')
    const r2 = await refresh(r1.body.refresh_token)
    t.equal(r2.status, 200)
    t.not(r2.body.refresh_token, r1.body.refresh_token)
  })

  t.test('within the grace window the previous token gets the same successor back', async (t) => {
    const l = await login()
    const r1 = await refresh(l.refresh_token)
    const again = await refresh(l.refresh_token)
    t.equal(again.status, 200)
    t.equal(again.body.refresh_token, r1.body.refresh_token, 'same refresh token')
    t.not(again.body.access_token, undefined)
    t.equal((await refresh(r1.body.refresh_token)).status, 200, 'the successor still rotates')
  })

  t.test('an older token, even inside the window, is reuse and revokes the whole session', async (t) => {
    const l = await login()
    const r1 = await refresh(l.refresh_token)
    const r2 = await refresh(r1.body.refresh_token)
    const replay = await refresh(l.refresh_token)
    t.equal(replay.status, 401)
    t.equal(replay.body.code, 'REFRESH_TOKEN_REUSED')
    const latest = await refresh(r2.body.refresh_token)
    t.equal(latest.status, 401, 'the newest token of the session is dead too')
    t.equal(latest.body.code, 'SESSION_REVOKED')
  })

  t.test('the previous token after the grace window is reuse', async (t) => {
    const l = await login()
    const r1 = await refresh(l.refresh_token)
    await sleep(450)
    const replay = await refresh(l.refresh_token)
    t.equal(replay.body.code, 'REFRESH_TOKEN_REUSED')
    t.equal((await refresh(r1.body.refresh_token)).body.code, 'SESSION_REVOKED')
  })

  t.test('malformed, unknown and forged tokens are REFRESH_TOKEN_INVALID', async (t) => {
    const l = await login()
    const [sid, gen, mac] = l.refresh_token.split('.')
    const forged = `${sid}.${Number(gen) + 1}.${mac}`
    const otherMac = `${sid}.${gen}.${'A'.repeat(43)}`
    const unknown = `${'B'.repeat(22)}.0.${mac}`
    for (const token of ['x', l.access_token, forged, otherMac, unknown, l.refresh_token + 'x']) {
      const r = await refresh(token)
      t.equal(r.status, 401)
      t.equal(r.body.code, 'REFRESH_TOKEN_INVALID')
    }
    t.equal((await refresh(l.refresh_token)).status, 200, 'the real token still works')
  })

  t.test('logout revokes the session: its refresh token no longer works', async (t) => {
    const l = await login()
    const out = await ac.call('POST', '/auth/logout', undefined, { authorization: `Bearer ${l.access_token}` })
    t.equal(out.status, 204)
    const r = await refresh(l.refresh_token)
    t.equal(r.status, 401)
    t.equal(r.body.code, 'SESSION_REVOKED')
    const again = await ac.call('POST', '/auth/logout', undefined, { authorization: `Bearer ${l.access_token}` })
    t.equal(again.status, 401, 'the access token of an ended session is refused at the auth center')
    t.equal(again.body.code, 'SESSION_REVOKED')
  })

  t.test('a session re-made under the same id with another nonce: the old token is refused and nothing rotates', async (t) => {
    // The refresh path remembers the nonce of sessions it made (one store round trip);
    // the rotation step re-checks it, so a remembered nonce that is stale changes nothing.
    const l = await login()
    const store = ac.app.deps.store
    const before = await store.getSession(l.session_id)
    await store.createSession({ ...before!, refreshNonce: 'another-nonce-another-nonce' })
    const r = await refresh(l.refresh_token)
    t.equal(r.status, 401)
    t.equal(r.body.code, 'REFRESH_TOKEN_INVALID')
    const after = await store.getSession(l.session_id)
    t.equal(after?.refreshGen, before?.refreshGen, 'not rotated')
    t.equal(after?.revokedAt, undefined, 'not revoked either')
  })

  t.test('a refresh from another user agent than the login takes the full path and records it', async (t) => {
    const l = (await ac.call('POST', '/auth/login', { mobile: TEST_MOBILE, code: TEST_OTP }, { 'user-agent': 'app/1.0' })).body
    const same = await ac.call('POST', '/auth/refresh', { refresh_token: l.refresh_token }, { 'user-agent': 'app/1.0' })
    t.equal(same.status, 200)
    const r = await ac.call('POST', '/auth/refresh', { refresh_token: same.body.refresh_token }, { 'user-agent': 'other/2.0' })
    t.equal(r.status, 200)
    const events = await ac.app.deps.store.listRiskEvents(l.user.id)
    t.equal(events.filter((e) => e.sessionId === l.session_id && e.reason === 'user_agent_changed').length, 1, 'one device change, recorded once')
  })

  t.test('50 concurrent refreshes of one token rotate exactly once', async (t) => {
    // The default 10 s grace window: a loaded test machine must not turn the race into reuse.
    const ac2 = await startAuthCenter({ ...env, REFRESH_GRACE: '10s' })
    t.teardown(() => ac2.close())
    const l = (await ac2.call('POST', '/auth/login', { mobile: TEST_MOBILE, code: TEST_OTP })).body
    const results = await Promise.all(Array.from({ length: 50 }, () => ac2.call('POST', '/auth/refresh', { refresh_token: l.refresh_token })))
    t.ok(results.every((r) => r.status === 200), 'all answered inside the grace window')
    const successors = new Set(results.map((r) => r.body.refresh_token))
    t.equal(successors.size, 1, 'one successor for all')
    const session = await ac2.app.deps.store.getSession(l.session_id)
    t.equal(session?.refreshGen, 1, 'the generation moved by exactly one')
  })
})

t.test('redis: a token made by one instance refreshes at another (which never saw the session)', async (t) => {
  const redis = await startRedis()
  t.teardown(() => redis.close())
  const a = await startAuthCenter({ REDIS_URL: redis.url })
  t.teardown(() => a.close())
  const b = await startAuthCenter({ REDIS_URL: redis.url })
  t.teardown(() => b.close())
  const l = (await a.call('POST', '/auth/login', { mobile: TEST_MOBILE, code: TEST_OTP })).body
  const r1 = await b.call('POST', '/auth/refresh', { refresh_token: l.refresh_token })
  t.equal(r1.status, 200, 'full path at b')
  const r2 = await a.call('POST', '/auth/refresh', { refresh_token: r1.body.refresh_token })
  t.equal(r2.status, 200, 'a rotates the successor b made')
  const replay = await a.call('POST', '/auth/refresh', { refresh_token: l.refresh_token })
  t.equal(replay.body.code, 'REFRESH_TOKEN_REUSED', 'reuse is seen whichever instance rotated')
  t.equal((await b.call('POST', '/auth/refresh', { refresh_token: r2.body.refresh_token })).body.code, 'SESSION_REVOKED')
})

t.test('an expired refresh token is REFRESH_TOKEN_EXPIRED', async (t) => {
  const ac = await startAuthCenter({ REFRESH_TOKEN_TTL: '300ms' })
  t.teardown(() => ac.close())
  const l = (await ac.call('POST', '/auth/login', { mobile: TEST_MOBILE, code: TEST_OTP })).body
  await sleep(400)
  const r = await ac.call('POST', '/auth/refresh', { refresh_token: l.refresh_token })
  t.equal(r.status, 401)
  t.equal(r.body.code, 'REFRESH_TOKEN_EXPIRED')
})
