import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { eachDriver } from '../helpers/drivers.js'
import { sleep, startAuthCenter, TEST_MOBILE, TEST_OTP, type RunningAuthCenter } from '../helpers/auth-center.js'

const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` })

async function login (ac: RunningAuthCenter, device?: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<any> {
  const r = await ac.call('POST', '/auth/login', { mobile: TEST_MOBILE, code: TEST_OTP, ...(device !== undefined ? { device: { name: device } } : {}), ...extra }, headers)
  if (r.status !== 200) throw new Error(`login failed: ${r.status} ${JSON.stringify(r.body)}`)
  return r.body
}

/** The auth center's denylist as field → value, read through the in-process feed. */
async function denylist (ac: RunningAuthCenter): Promise<Map<string, string>> {
  const { entries } = await ac.app.revocationFeed.load()
  return new Map(entries.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]))
}

async function until (check: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`)
    await sleep(10)
  }
}

eachDriver(t, async (t, env) => {
  const ac = await startAuthCenter(env)
  t.teardown(() => ac.close())

  t.test('GET /auth/sessions lists the caller\'s live sessions, marking the current one', async (t) => {
    const laptop = await login(ac, 'laptop', {}, { 'user-agent': 'curl/8.5.0' })
    const phone = await login(ac, 'phone')
    const r = await ac.call('GET', '/auth/sessions', undefined, bearer(phone.access_token))
    t.equal(r.status, 200)
    t.equal(r.headers.get('cache-control'), 'no-store')
    const mine = r.body.sessions.filter((s: any) => s.id === laptop.session_id || s.id === phone.session_id)
    t.equal(mine.length, 2)
    const l = r.body.sessions.find((s: any) => s.id === laptop.session_id)
    const p = r.body.sessions.find((s: any) => s.id === phone.session_id)
    t.equal(l.current, false)
    t.equal(p.current, true)
    t.equal(l.device_name, 'laptop')
    t.equal(l.user_agent, 'curl/8.5.0')
    t.equal(l.client_id, 'default')
    t.match(l.ip, /127\.0\.0\.1/)
    for (const f of ['created_at', 'last_used_at', 'expires_at']) t.match(l[f], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, f)
    t.strictSame(Object.keys(l).sort(), ['client_id', 'created_at', 'current', 'device_name', 'expires_at', 'id', 'ip', 'last_used_at', 'user_agent'])
    const ids = r.body.sessions.map((s: any) => s.id)
    t.ok(ids.indexOf(laptop.session_id) < ids.indexOf(phone.session_id), 'oldest first')

    await sleep(20)
    await ac.call('POST', '/auth/refresh', { refresh_token: laptop.refresh_token })
    const after = (await ac.call('GET', '/auth/sessions', undefined, bearer(phone.access_token))).body.sessions.find((s: any) => s.id === laptop.session_id)
    t.ok(after.last_used_at > l.last_used_at, 'a refresh moves last_used_at')
    t.equal((await ac.call('GET', '/auth/sessions')).status, 401, 'needs an access token')
  })

  t.test('DELETE /auth/sessions/:id kicks one device: its refresh and its access token are refused, and s:<sid> is published', async (t) => {
    const victim = await login(ac, 'old phone')
    const me = await login(ac, 'new phone')
    const heard: string[] = []
    t.teardown(ac.app.revocationFeed.subscribe((m) => { heard.push(m) }))
    await ac.app.revocationFeed.load()

    const r = await ac.call('DELETE', `/auth/sessions/${victim.session_id}`, undefined, bearer(me.access_token))
    t.equal(r.status, 204)
    const refresh = await ac.call('POST', '/auth/refresh', { refresh_token: victim.refresh_token })
    t.equal(refresh.status, 401)
    t.equal(refresh.body.code, 'SESSION_REVOKED')
    const call = await ac.call('POST', '/auth/logout', undefined, bearer(victim.access_token))
    t.equal(call.status, 401, 'its access token is refused at the auth center')
    t.equal(call.body.code, 'SESSION_REVOKED')
    t.match(call.headers.get('www-authenticate'), /^Bearer /)

    await until(() => heard.some((m) => m.startsWith(`s:${victim.session_id}=`)))
    t.match((await denylist(ac)).get(`s:${victim.session_id}`), /^\d+:\d+$/)
    t.equal((await ac.call('DELETE', `/auth/sessions/${victim.session_id}`, undefined, bearer(me.access_token))).body.code, 'SESSION_NOT_FOUND',
      'an already ended session is not found')
    t.equal((await ac.call('POST', '/auth/refresh', { refresh_token: me.refresh_token })).status, 200, 'the caller lives on')
  })

  t.test('another user\'s session, or an unknown one, is 404 SESSION_NOT_FOUND and stays alive', async (t) => {
    const me = await login(ac)
    const ac2 = await startAuthCenter({ ...env, SMS_TEST_OTP: `${TEST_MOBILE}:${TEST_OTP},+8613811112222:654321` })
    t.teardown(() => ac2.close())
    const mine = (await ac2.call('POST', '/auth/login', { mobile: TEST_MOBILE, code: TEST_OTP })).body
    const theirs = (await ac2.call('POST', '/auth/login', { mobile: '+8613811112222', code: '654321' })).body
    for (const id of [theirs.session_id, 'AAAAAAAAAAAAAAAAAAAAAA']) {
      const r = await ac2.call('DELETE', `/auth/sessions/${id}`, undefined, bearer(mine.access_token))
      t.equal(r.status, 404)
      t.equal(r.body.code, 'SESSION_NOT_FOUND')
    }
    t.equal((await ac2.call('POST', '/auth/refresh', { refresh_token: theirs.refresh_token })).status, 200, 'theirs is untouched')
    const list = (await ac2.call('GET', '/auth/sessions', undefined, bearer(mine.access_token))).body.sessions
    t.notOk(list.some((s: any) => s.id === theirs.session_id), 'never listed')
    t.equal((await ac.call('DELETE', '/auth/sessions/not%20an%20id', undefined, bearer(me.access_token))).status, 400)
  })

  t.test('DELETE /auth/sessions?others=true logs out everywhere else with ONE u: entry sparing the current session', async (t) => {
    const a = await login(ac, 'a')
    const b = await login(ac, 'b')
    const me = await login(ac, 'me')
    const bad = await ac.call('DELETE', '/auth/sessions', undefined, bearer(me.access_token))
    t.equal(bad.status, 400, 'without others=true')
    t.equal((await ac.call('DELETE', '/auth/sessions?others=false', undefined, bearer(me.access_token))).status, 400)

    const r = await ac.call('DELETE', '/auth/sessions?others=true', undefined, bearer(me.access_token))
    t.equal(r.status, 200)
    t.ok(r.body.revoked >= 2, `revoked ${r.body.revoked}`)
    for (const s of [a, b]) t.equal((await ac.call('POST', '/auth/refresh', { refresh_token: s.refresh_token })).body.code, 'SESSION_REVOKED')
    t.equal((await ac.call('POST', '/auth/refresh', { refresh_token: me.refresh_token })).status, 200)
    const list = (await ac.call('GET', '/auth/sessions', undefined, bearer(me.access_token))).body.sessions
    t.strictSame(list.map((s: any) => s.id), [me.session_id])
    const entry = (await denylist(ac)).get(`u:${me.user.id}`)
    t.match(entry, new RegExp(`^\\d+:\\d+:${me.session_id}$`), 'u:<userId> = revokedAt:expiresAt:<current sid>')
    t.notOk((await denylist(ac)).has(`s:${a.session_id}`), 'no per-session entries')
  })

  t.test('DELETE of the current session is a logout', async (t) => {
    const me = await login(ac)
    t.equal((await ac.call('DELETE', `/auth/sessions/${me.session_id}`, undefined, bearer(me.access_token))).status, 204)
    t.equal((await ac.call('POST', '/auth/refresh', { refresh_token: me.refresh_token })).body.code, 'SESSION_REVOKED')
  })
})

async function clientsFile (t: Test, body: unknown): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'authcenter-clients-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const file = join(dir, 'clients.json')
  await writeFile(file, JSON.stringify(body))
  return file
}

eachDriver(t, async (t, env) => {
  t.test('maxSessions = 2 (AUTH_CLIENTS_FILE): the third login kicks the first; other clients do not count', async (t) => {
    const file = await clientsFile(t, { clients: [{ client_id: 'app', policy: { maxSessions: 2, accessTtl: '10m' } }] })
    const ac = await startAuthCenter({ ...env, AUTH_CLIENTS_FILE: file })
    t.teardown(() => ac.close())
    const web = await login(ac, 'browser')
    const first = await login(ac, 'phone 1', { client_id: 'app' })
    await sleep(5)
    const second = await login(ac, 'phone 2', { client_id: 'app' })
    await sleep(5)
    const third = await login(ac, 'phone 3', { client_id: 'app' })

    const kicked = await ac.call('POST', '/auth/refresh', { refresh_token: first.refresh_token })
    t.equal(kicked.status, 401)
    t.equal(kicked.body.code, 'SESSION_REVOKED', 'the oldest device learns it on its next call')
    t.equal((await ac.call('POST', '/auth/logout', undefined, bearer(first.access_token))).body.code, 'SESSION_REVOKED')
    for (const s of [second, third, web]) t.equal((await ac.call('POST', '/auth/refresh', { refresh_token: s.refresh_token })).status, 200)
    const session = await ac.app.deps.store.getSession(first.session_id)
    t.equal(session?.revokedReason, 'max_sessions')

    const value = (await denylist(ac)).get(`s:${first.session_id}`)
    const [at, exp] = value!.split(':').map(Number)
    t.equal(exp! - at!, 10 * 60_000 + 5_000, 'entry lives for the longest access-token lifetime of any client + 5 s')
  })

  for (const max of [1, 2]) {
    t.test(`MAX_SESSIONS=${max} for the built-in client: concurrent logins leave exactly ${max}, the newest`, async (t) => {
      const mobile = `+861381234567${max}`
      const ac = await startAuthCenter({ ...env, MAX_SESSIONS: String(max), SMS_TEST_OTP: `${mobile}:${TEST_OTP}` })
      t.teardown(() => ac.close())
      // Five at once: a test number takes MAX_ATTEMPTS (5) tries per window, counted before
      // the right code gives its unit back, so a sixth concurrent try may be refused.
      const logins = await Promise.all(Array.from({ length: 5 }, async (_v, i) =>
        (await ac.call('POST', '/auth/login', { mobile, code: TEST_OTP, device: { name: `device ${i}` } })).body))
      t.ok(logins.every((l) => typeof l.session_id === 'string'), 'every login answered')
      const all = await Promise.all(logins.map(async (l) => (await ac.app.deps.store.getSession(l.session_id))!))
      const live = await ac.app.deps.store.listUserSessions(logins[0].user.id, Date.now())
      t.equal(live.length, max, `exactly ${max} survive the race`)
      const newest = all.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1)).slice(-max).map((s) => s.id)
      t.strictSame(live.map((s) => s.id), newest, 'the newest ones')
    })
  }
})

t.test('the in-process feed: subscribe, then load; messages arrive before the revoking request answers (memory store)', async (t) => {
  const ac = await startAuthCenter()
  t.teardown(() => ac.close())
  const heard: string[] = []
  const unsubscribe = ac.app.revocationFeed.subscribe((m) => { heard.push(m) })
  const { epoch, entries } = await ac.app.revocationFeed.load()
  t.match(epoch, /^\d+:[0-9a-f]+$/)
  t.strictSame(entries, [])
  const me = await login(ac)
  const iat = JSON.parse(Buffer.from(me.access_token.split('.')[1], 'base64url').toString()).iat
  t.ok(Number(epoch.split(':')[0]) <= iat * 1000, 'the epoch predates the first token (a whole second)')
  await ac.call('POST', '/auth/logout', undefined, bearer(me.access_token))
  t.equal(heard.length, 1, 'already delivered when logout answered')
  t.match(heard[0], new RegExp(`^s:${me.session_id}=\\d+:\\d+$`))
  unsubscribe()
})
