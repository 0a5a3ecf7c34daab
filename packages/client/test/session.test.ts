import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { AuthError, createClient, memoryStorage, type TokenStorage } from '../src/index.js'
import { MOBILE, OTP, adminLogout, recordingFetch, startStack } from './helpers/stack.js'

/**
 * The state machine against the real auth center and the real user service:
 * login, expiry, single flight, retry once, the logged-out event.
 */
t.test('the client state machine', async (t) => {
  const stack = await startStack(t, { authEnv: { ACCESS_TOKEN_TTL: '1s', REFRESH_GRACE: '10s' } })
  const { issuer, usersUrl } = stack

  t.test('logs in with a code, calls the user service, and logs out at the auth center', async (t) => {
    const rec = recordingFetch()
    const auth = createClient({ issuer, fetch: rec.fetch, autoRefresh: false })
    t.teardown(() => { auth.close() })
    t.same(await auth.requestCode(MOBILE), { expiresIn: 300, retryAfter: 60 })
    const info = await auth.loginWithCode(MOBILE, OTP)
    t.equal(info.kind, 'refresh')
    t.equal(info.mobile, MOBILE)
    const res = await auth.fetch(`${usersUrl}/user/mine`)
    t.equal(res.status, 200)
    t.equal((await res.json() as { id: string }).id, info.userId)
    const token = await auth.getAccessToken()
    const logouts: string[] = []
    auth.on('logout', (e) => { logouts.push(e.reason) })
    await auth.logout()
    t.same(logouts, ['logout'])
    t.equal(await auth.session(), undefined)
    t.same(rec.statuses('/auth/logout'), [204])
    const after = await fetch(`${issuer}/auth/sessions`, { headers: { authorization: `Bearer ${token}` } })
    t.equal(after.status, 401, 'the session is over at the auth center too')
    await t.rejects(auth.getAccessToken(), { name: 'AuthError', code: 'NOT_LOGGED_IN' })
  })

  t.test('a wrong code is a typed error with the server\'s code, and no session', async (t) => {
    const auth = createClient({ issuer, autoRefresh: false })
    t.teardown(() => { auth.close() })
    const err = await auth.loginWithCode(MOBILE, '000000').catch((e: unknown) => e)
    t.ok(err instanceof AuthError)
    t.equal((err as AuthError).code, 'INVALID_CODE')
    t.equal((err as AuthError).status, 400)
    t.equal(await auth.session(), undefined)
  })

  t.test('ten calls after expiry make exactly one refresh (single flight in a page)', async (t) => {
    const rec = recordingFetch()
    const auth = createClient({ issuer, fetch: rec.fetch, autoRefresh: false })
    t.teardown(() => { auth.close() })
    await auth.loginWithCode(MOBILE, OTP)
    const first = await auth.getAccessToken()
    await sleep(1100)
    const tokens = await Promise.all(Array.from({ length: 10 }, async () => await auth.getAccessToken()))
    t.equal(rec.count('/auth/refresh'), 1)
    t.equal(new Set(tokens).size, 1)
    t.not(tokens[0], first)
  })

  t.test('proactive refresh: the timer renews before expiry, once per lifetime', async (t) => {
    // 3 s tokens, so that a slow answer on a loaded machine cannot make the renewed token look old at once.
    const slow = await startStack(t, { authEnv: { ACCESS_TOKEN_TTL: '3s' } })
    const rec = recordingFetch()
    const auth = createClient({ issuer: slow.issuer, fetch: rec.fetch })
    t.teardown(() => { auth.close() })
    await auth.loginWithCode(MOBILE, OTP)
    const first = await auth.getAccessToken()
    // Nothing calls the client: the timer (at 70-80 % of the lifetime) is what renews.
    while (rec.count('/auth/refresh') === 0) await sleep(50)
    let second = first
    while (second === first) { await sleep(20); second = await auth.getAccessToken() }
    t.equal(rec.count('/auth/refresh'), 1, 'one renewal, and getAccessToken took its result')
  })

  t.test('a 401 TOKEN_EXPIRED refreshes once and retries once', async (t) => {
    // This device's clock runs behind: it believes the token lives 60 s longer than it does.
    const rec = recordingFetch()
    const slowClock: typeof fetch = async (input, init) => {
      const res = await rec.fetch(input, init)
      if (!String(input instanceof Request ? input.url : input).endsWith('/auth/login')) return res
      const body = await res.json() as { expires_in: number }
      return Response.json({ ...body, expires_in: body.expires_in + 60 }, { status: res.status, headers: res.headers })
    }
    const auth = createClient({ issuer, fetch: slowClock, autoRefresh: false })
    t.teardown(() => { auth.close() })
    await auth.loginWithCode(MOBILE, OTP)
    await sleep(6500) // past the 1 s lifetime and the verifier's 5 s clock tolerance
    const res = await auth.fetch(`${usersUrl}/user/mine`)
    t.equal(res.status, 200)
    t.equal(rec.count('/auth/refresh'), 1)
    t.equal(rec.count('/user/mine'), 2, 'the first answer was 401 TOKEN_EXPIRED, the retry 200')
  })

  t.test('a refresh answer lost on the way: asked again, the grace window gives the same successor', async (t) => {
    const rec = recordingFetch()
    let dropped = 0
    const flaky: typeof fetch = async (input, init) => {
      const res = await rec.fetch(input, init)
      if (String(input).endsWith('/auth/refresh') && dropped === 0) {
        dropped++
        await res.arrayBuffer() // the auth center rotated; the answer never arrives
        throw new TypeError('fetch failed')
      }
      return res
    }
    const storage = peekable()
    const auth = createClient({ issuer, fetch: flaky, storage, autoRefresh: false })
    t.teardown(() => { auth.close() })
    await auth.loginWithCode(MOBILE, OTP)
    const before = generation(storage)
    await sleep(1100)
    const res = await auth.fetch(`${usersUrl}/user/mine`)
    t.equal(res.status, 200)
    t.equal(rec.count('/auth/refresh'), 2, 'one lost, one retried')
    t.equal(generation(storage), before + 1, 'exactly one rotation at the auth center')
    t.equal((await auth.session())?.kind, 'refresh', 'still logged in')
  })

  t.test('an admin logout: the next renewal says SESSION_REVOKED, logout is emitted once, calls throw', async (t) => {
    const auth = createClient({ issuer, autoRefresh: false })
    t.teardown(() => { auth.close() })
    const info = await auth.loginWithCode(MOBILE, OTP)
    const reasons: string[] = []
    auth.on('logout', (e) => { reasons.push(e.reason) })
    await adminLogout(stack, info.userId!)
    await sleep(1100)
    await t.rejects(auth.fetch(`${usersUrl}/user/mine`), { code: 'SESSION_REVOKED', status: 401 })
    t.same(reasons, ['SESSION_REVOKED'])
    await t.rejects(auth.getAccessToken(), { code: 'NOT_LOGGED_IN' })
    t.same(reasons, ['SESSION_REVOKED'], 'not emitted twice')
  })

  t.test('a revoked session seen at the user service (TOKEN_REVOKED) ends the session', async (t) => {
    const auth = createClient({ issuer, autoRefresh: false })
    t.teardown(() => { auth.close() })
    const info = await auth.loginWithCode(MOBILE, OTP)
    const reasons: string[] = []
    auth.on('logout', (e) => { reasons.push(e.reason) })
    await adminLogout(stack, info.userId!)
    await t.rejects(auth.fetch(`${usersUrl}/user/mine`), { code: 'TOKEN_REVOKED', status: 401 })
    t.same(reasons, ['TOKEN_REVOKED'])
  })

  t.test('a session ending in one tab does not wipe a newer login another tab made meanwhile', async (t) => {
    const storage = peekable() // one storage, two clients: two tabs of one origin
    const a = createClient({ issuer, storage, autoRefresh: false })
    const b = createClient({ issuer, storage, autoRefresh: false })
    t.teardown(() => { a.close(); b.close() })
    const first = await a.loginWithCode(MOBILE, OTP)
    const reasons: string[] = []
    a.on('logout', (e) => { reasons.push(e.reason) })
    await adminLogout(stack, first.userId!)
    const second = await b.loginWithCode(MOBILE, OTP)
    await t.rejects(a.fetch(`${usersUrl}/user/mine`), { code: 'TOKEN_REVOKED' })
    t.same(reasons, [], 'no logout: this tab now holds the newer session')
    t.equal((await a.session())?.sessionId, second.sessionId)
    t.equal((await a.fetch(`${usersUrl}/user/mine`)).status, 200)
  })

  t.test('a copied refresh token used after rotation: REFRESH_TOKEN_REUSED, and both copies are logged out', async (t) => {
    const stack2 = await startStack(t, { authEnv: { ACCESS_TOKEN_TTL: '1s', REFRESH_GRACE: '100ms' } })
    const storage = peekable()
    const device = createClient({ issuer: stack2.issuer, storage, autoRefresh: false })
    t.teardown(() => { device.close() })
    await device.loginWithCode(MOBILE, OTP)
    const stolen = memoryStorage()
    for (const [k, v] of storage.map) await stolen.set(k, structuredClone(v))
    const thief = createClient({ issuer: stack2.issuer, storage: stolen, autoRefresh: false })
    t.teardown(() => { thief.close() })
    const reasons: string[] = []
    device.on('logout', (e) => { reasons.push(`device:${e.reason}`) })
    thief.on('logout', (e) => { reasons.push(`thief:${e.reason}`) })
    await sleep(1100)
    await device.getAccessToken() // rotates
    await sleep(200) // past the grace window
    await t.rejects(thief.getAccessToken(), { code: 'REFRESH_TOKEN_REUSED' })
    await sleep(1100)
    await t.rejects(device.getAccessToken(), { code: 'SESSION_REVOKED' })
    t.same(reasons, ['thief:REFRESH_TOKEN_REUSED', 'device:SESSION_REVOKED'])
  })
})

/** A memory storage the test can look into (the refresh token's generation). */
function peekable (): TokenStorage & { map: Map<string, unknown> } {
  const map = new Map<string, unknown>()
  return {
    map,
    shared: false,
    get: async <T>(k: string) => map.get(k) as T | undefined,
    set: async (k, v) => { map.set(k, v) },
    delete: async (k) => { map.delete(k) }
  }
}

/** `<session>.<generation>.<mac>`: the auth center's count of rotations of this session. */
function generation (storage: { map: Map<string, unknown> }): number {
  for (const [k, v] of storage.map) {
    if (k.endsWith(':session')) return Number((v as { refreshToken: string }).refreshToken.split('.')[1])
  }
  throw new Error('no session stored')
}
