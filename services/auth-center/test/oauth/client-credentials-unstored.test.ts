import t from 'tap'
import { eachDriver } from '../helpers/drivers.js'
import { OPS_SECRET, PARTNER_SECRET, startOAuthCenter } from './helpers.js'

// Issue #17: a client-credentials token stores nothing (oauth/grants/client-credentials.ts);
// its sid names that token alone and the denylist alone revokes it, here and at verifiers.

const ADMIN_TOKEN = 'admin-secret-0123456789abcdef'
const basic = (id: string, secret: string): string => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`
const claimsOf = (jwt: string): Record<string, any> => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString())

interface Reply { status: number, body: any }

async function form (url: string, params: Record<string, string>, headers: Record<string, string> = {}): Promise<Reply> {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(params) })
  const text = await r.text()
  return { status: r.status, body: text === '' ? null : JSON.parse(text) }
}

async function call (url: string, method: string, body: unknown, headers: Record<string, string>): Promise<Reply> {
  const r = await fetch(url, { method, headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) })
  const text = await r.text()
  return { status: r.status, body: text === '' ? null : JSON.parse(text) }
}

eachDriver(t, async (t, env) => {
  const ac = await startOAuthCenter({ ...env, AUTH_ADMIN_TOKEN: ADMIN_TOKEN })
  t.teardown(ac.close)
  const store = ac.app.deps.store
  const partner = { authorization: basic('partner', PARTNER_SECRET) }
  const entriesFor = async (prefix: string): Promise<string[]> => (await store.denylist()).entries.filter((e) => e.startsWith(prefix))

  t.test('issuing writes no session; each token has its own sid; introspection answers it', async (t) => {
    const a = await form(`${ac.issuer}/oauth/token`, { grant_type: 'client_credentials', scope: 'profile:read' }, partner)
    const b = await form(`${ac.issuer}/oauth/token`, { grant_type: 'client_credentials', scope: 'profile:read' }, partner)
    t.equal(a.status, 200)
    t.equal(b.status, 200)
    const [ca, cb] = [claimsOf(a.body.access_token), claimsOf(b.body.access_token)]
    t.match(ca, { sub: 'client:partner', client_id: 'partner', ac_kind: 'client', scope: 'profile:read', sid: /^[A-Za-z0-9_-]{20,}$/ })
    t.not(ca.sid, cb.sid, 'a sid per token')
    t.equal(await store.getSession(ca.sid), null, 'no session stored')
    t.strictSame(await store.listUserSessions('client:partner', Date.now()), [], 'and none indexed under the client')
    const intro = await form(`${ac.issuer}/oauth/introspect`, { token: a.body.access_token }, partner)
    t.match(intro.body, { active: true, sid: ca.sid, sub: 'client:partner', client_id: 'partner', scope: 'profile:read', token_type: 'Bearer' })
  })

  t.test('RFC 7009 revocation ends that token alone, at once, with one entry', async (t) => {
    const a = await form(`${ac.issuer}/oauth/token`, { grant_type: 'client_credentials' }, partner)
    const b = await form(`${ac.issuer}/oauth/token`, { grant_type: 'client_credentials' }, partner)
    const sid = claimsOf(a.body.access_token).sid as string
    const revoked = await form(`${ac.issuer}/oauth/revoke`, { token: a.body.access_token }, partner)
    t.equal(revoked.status, 200)
    t.strictSame((await form(`${ac.issuer}/oauth/introspect`, { token: a.body.access_token }, partner)).body, { active: false }, 'inactive here at once')
    t.equal((await form(`${ac.issuer}/oauth/introspect`, { token: b.body.access_token }, partner)).body.active, true, 'the other token of the client lives on')
    t.equal((await entriesFor(`s:${sid}=`)).length, 1, 'its s: entry, for verifiers')
    t.equal((await form(`${ac.issuer}/oauth/revoke`, { token: a.body.access_token }, partner)).status, 200, 'again: still 200')
    t.equal((await entriesFor(`s:${sid}=`)).length, 1, 'and still one entry')
    const events = await store.queryEvents({ types: ['session_revoked'], limit: 50 })
    t.equal(events.events.filter((e) => e.sessionId === sid).length, 1, 'audited once')

    const other = await form(`${ac.issuer}/oauth/token`, { grant_type: 'client_credentials', scope: 'admin' }, { authorization: basic('ops', OPS_SECRET) })
    t.equal((await form(`${ac.issuer}/oauth/revoke`, { token: other.body.access_token }, partner)).status, 200, 'another client\'s token: 200, and nothing happens')
    t.equal((await entriesFor(`s:${claimsOf(other.body.access_token).sid as string}=`)).length, 0)
  })

  t.test('an admin-scope token stops opening the admin API the moment it is revoked', async (t) => {
    const ops = { authorization: basic('ops', OPS_SECRET) }
    const tk = await form(`${ac.issuer}/oauth/token`, { grant_type: 'client_credentials', scope: 'admin' }, ops)
    const bearer = { authorization: `Bearer ${tk.body.access_token as string}` }
    t.equal((await call(`${ac.issuer}/admin/clients`, 'GET', undefined, bearer)).status, 200)
    await form(`${ac.issuer}/oauth/revoke`, { token: tk.body.access_token }, ops)
    t.match(await call(`${ac.issuer}/admin/clients`, 'GET', undefined, bearer), { status: 401, body: { code: 'ADMIN_UNAUTHORIZED' } })
  })

  t.test('deleting a client ends its tokens by one u: entry; the same id registered again gets working tokens', async (t) => {
    const admin = { authorization: `Bearer ${ADMIN_TOKEN}` }
    const reg = await call(`${ac.issuer}/admin/clients`, 'POST', { client_id: 'robot-17', type: 'confidential', grant_types: ['client_credentials'], scope: 'admin' }, admin)
    t.equal(reg.status, 201)
    const robot = { authorization: basic('robot-17', reg.body.client_secret) }
    const old = await form(`${ac.issuer}/oauth/token`, { grant_type: 'client_credentials', scope: 'admin' }, robot)
    const oldBearer = { authorization: `Bearer ${old.body.access_token as string}` }
    t.equal((await call(`${ac.issuer}/admin/clients`, 'GET', undefined, oldBearer)).status, 200)
    t.equal((await call(`${ac.issuer}/admin/clients/robot-17`, 'DELETE', undefined, admin)).status, 200)
    t.equal((await entriesFor('u:client:robot-17=')).length, 1)

    const again = await call(`${ac.issuer}/admin/clients`, 'POST', { client_id: 'robot-17', type: 'confidential', grant_types: ['client_credentials'], scope: 'admin' }, admin)
    t.equal(again.status, 201)
    t.equal((await call(`${ac.issuer}/admin/clients`, 'GET', undefined, oldBearer)).status, 401, 'the token from before the delete stays dead')
    // The u: entry covers iat <= its revokedAt, to the millisecond: a token issued after it is new.
    await new Promise((resolve) => setTimeout(resolve, 5))
    const fresh = await form(`${ac.issuer}/oauth/token`, { grant_type: 'client_credentials', scope: 'admin' }, { authorization: basic('robot-17', again.body.client_secret) })
    t.equal(fresh.status, 200)
    t.equal((await call(`${ac.issuer}/admin/clients`, 'GET', undefined, { authorization: `Bearer ${fresh.body.access_token as string}` })).status, 200, 'the new registration\'s token works')
  })
})
