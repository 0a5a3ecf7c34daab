import t from 'tap'
import { readEvents, type SseEvent } from '../../../../packages/verifier/src/revocation/sse.js'
import {
  ADMIN, DEV_REVOCATION_CLIENT_ID, DEV_REVOCATION_CLIENT_SECRET, clientToken, feedVerifier, freePort, login, startFeedAuthCenter, startProxy, until, verdict
} from './helpers.js'

/** Reads events from a stream until `stop` says so (bounded). */
async function collect (res: Response, stop: (events: SseEvent[]) => boolean, ms = 3000): Promise<SseEvent[]> {
  const events: SseEvent[] = []
  const timer = setTimeout(() => { void res.body?.cancel() }, ms)
  try {
    for await (const e of readEvents(res.body!)) {
      events.push(e)
      if (stop(events)) break
    }
  } catch {}
  clearTimeout(timer)
  await res.body?.cancel().catch(() => {})
  return events
}

t.test('the feed is read only with a client-credentials token carrying revocations:read (RFC 6750 refusals otherwise)', async (t) => {
  const ac = await startFeedAuthCenter(t)
  const base = `http://127.0.0.1:${ac.port}`
  const user = await login(base)
  // A client registered through the admin API, without the feed's scope.
  const reg = await fetch(`${base}/admin/clients`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ client_id: 'reports-robot', type: 'confidential', grant_types: ['client_credentials'], scope: 'reports' })
  })
  t.equal(reg.status, 201)
  const { client_secret: secret } = await reg.json() as { client_secret: string }
  const noScope = await clientToken(base, 'reports-robot', secret)
  const reader = await clientToken(base, DEV_REVOCATION_CLIENT_ID, DEV_REVOCATION_CLIENT_SECRET, 'revocations:read')

  for (const path of ['/revocations', '/revocations/stream']) {
    const missing = await fetch(base + path)
    t.equal(missing.status, 401, `${path}: no token`)
    t.equal((await missing.json() as { code: string }).code, 'REVOCATION_FEED_UNAUTHORIZED')
    t.equal(missing.headers.get('www-authenticate'), 'Bearer realm="revocations"')

    const ofUser = await fetch(base + path, { headers: { authorization: `Bearer ${user.access_token}` } })
    t.equal(ofUser.status, 401, `${path}: a user's access token`)
    t.equal((await ofUser.json() as { code: string }).code, 'REVOCATION_FEED_UNAUTHORIZED')
    t.equal(ofUser.headers.get('www-authenticate'), 'Bearer realm="revocations", error="invalid_token"')

    const forged = await fetch(base + path, { headers: { authorization: `Bearer ${reader.slice(0, -4)}AAAA` } })
    t.equal(forged.status, 401, `${path}: a forged token`)

    const scopeless = await fetch(base + path, { headers: { authorization: `Bearer ${noScope}` } })
    t.equal(scopeless.status, 403, `${path}: a client token without revocations:read`)
    t.equal((await scopeless.json() as { code: string }).code, 'REVOCATION_FEED_FORBIDDEN')
    t.equal(scopeless.headers.get('www-authenticate'), 'Bearer realm="revocations", error="insufficient_scope", scope="revocations:read"')
  }

  const ok = await fetch(`${base}/revocations`, { headers: { authorization: `Bearer ${reader}` } })
  t.equal(ok.status, 200)
  t.equal(ok.headers.get('cache-control'), 'no-store')
  const snap = await ok.json() as { epoch: string, cursor: string, entries: string[] }
  t.match(snap.epoch, /^\d+:[0-9a-f]{16}$/)
  t.match(snap.cursor, /^[0-9a-f]{16}\.0-\d+$/)
  t.same(snap.entries, [])
})

t.test('both discovery documents advertise the snapshot and stream endpoints', async (t) => {
  const ac = await startFeedAuthCenter(t)
  const base = `http://127.0.0.1:${ac.port}`
  for (const doc of ['oauth-authorization-server', 'openid-configuration']) {
    const meta = await (await fetch(`${base}/.well-known/${doc}`)).json() as Record<string, unknown>
    t.equal(meta.revocation_feed_endpoint, `${base}/revocations`, doc)
    t.equal(meta.revocation_feed_stream_endpoint, `${base}/revocations/stream`, doc)
  }
})

t.test('the stream: hello, each revocation pushed with its cursor as id, resumed after a cursor without repeats, reset for an unknown cursor', async (t) => {
  const ac = await startFeedAuthCenter(t)
  const base = `http://127.0.0.1:${ac.port}`
  const reader = await clientToken(base, DEV_REVOCATION_CLIENT_ID, DEV_REVOCATION_CLIENT_SECRET)
  const auth = { authorization: `Bearer ${reader}` }
  const snap = await (await fetch(`${base}/revocations`, { headers: auth })).json() as { epoch: string, cursor: string }

  const live = await fetch(`${base}/revocations/stream?cursor=${snap.cursor}`, { headers: auth })
  t.equal(live.status, 200)
  t.match(live.headers.get('content-type'), /^text\/event-stream/)
  const a = await login(base, 'a')
  const b = await login(base, 'b')
  const gotLive = collect(live, (ev) => ev.filter((e) => e.event === 'revocation').length === 2)
  await fetch(`${base}/auth/logout`, { method: 'POST', headers: { authorization: `Bearer ${a.access_token}` } })
  await fetch(`${base}/auth/logout`, { method: 'POST', headers: { authorization: `Bearer ${b.access_token}` } })
  const events = await gotLive
  t.equal(events[0]?.event, 'hello')
  t.same(JSON.parse(events[0]!.data), { epoch: snap.epoch, heartbeat_ms: 200 })
  const revs = events.filter((e) => e.event === 'revocation')
  t.equal(revs.length, 2, 'exactly the two logouts')
  t.match(revs[0]!.data, new RegExp(`^s:${a.session_id}=\\d+:\\d+$`))
  t.match(revs[1]!.data, new RegExp(`^s:${b.session_id}=\\d+:\\d+$`))

  // Resuming after the first (Last-Event-ID, as EventSource sends it) gives the second only.
  const resumed = await fetch(`${base}/revocations/stream`, { headers: { ...auth, 'last-event-id': revs[0]!.id! } })
  const again = await collect(resumed, (ev) => ev.some((e) => e.event === 'heartbeat'))
  t.same(again.filter((e) => e.event === 'revocation').map((e) => [e.id, e.data]), [[revs[1]!.id, revs[1]!.data]], 'the missed entry, once')
  t.equal(JSON.parse(again.find((e) => e.event === 'heartbeat')!.data).epoch, snap.epoch, 'heartbeats carry the epoch')

  const foreign = await fetch(`${base}/revocations/stream?cursor=0123456789abcdef.0-1`, { headers: auth })
  const reset = await collect(foreign, () => false)
  t.same(reset.map((e) => e.event), ['reset'], 'a cursor of another epoch: reset, and the stream ends')
})

t.test('default memory store: logout reaches a verifier in another "process" over HTTP; disconnected, revoked, reconnected: refused without a second snapshot', async (t) => {
  const port = await freePort()
  const acPort = await freePort()
  const proxy = await startProxy(t, port, acPort)
  const ac = await startFeedAuthCenter(t, { issuer: proxy.url, port: acPort })
  const verify = feedVerifier(t, proxy.url)
  await verify.ready()
  const phone = await login(proxy.url, 'phone')
  const laptop = await login(proxy.url, 'laptop')
  t.equal(await verdict(verify, phone.access_token), 'ok')
  await fetch(`${proxy.url}/auth/logout`, { method: 'POST', headers: { authorization: `Bearer ${phone.access_token}` } })
  t.equal(await until(verify, phone.access_token, 'TOKEN_REVOKED'), 'TOKEN_REVOKED', 'logout reaches the verifier')

  // The network fails: the stream is cut and reconnects are refused for a while.
  proxy.refuse = true
  proxy.cut()
  await fetch(`http://127.0.0.1:${acPort}/auth/logout`, { method: 'POST', headers: { authorization: `Bearer ${laptop.access_token}` } })
  t.equal(await verdict(verify, laptop.access_token), 'ok', 'not heard of yet: disconnected')
  proxy.refuse = false
  t.equal(await until(verify, laptop.access_token, 'TOKEN_REVOKED', 8000), 'TOKEN_REVOKED', 'refused after the reconnect')
  t.equal(ac.snapshots, 1, 'exactly one snapshot: the reconnect resumed from its cursor')
  t.equal(verify.revocation?.loads, 1)
  t.equal(verify.revocation?.fresh, true)
})

t.test('a stream lives as long as its token: it ends with `end`, the verifier gets a new token and resumes without a second snapshot', async (t) => {
  const ac = await startFeedAuthCenter(t, { env: { ACCESS_TOKEN_TTL: '2s' } })
  const base = `http://127.0.0.1:${ac.port}`
  const reader = await clientToken(base, DEV_REVOCATION_CLIENT_ID, DEV_REVOCATION_CLIENT_SECRET)
  const res = await fetch(`${base}/revocations/stream`, { headers: { authorization: `Bearer ${reader}` } })
  const events = await collect(res, (ev) => ev.some((e) => e.event === 'end'), 6000)
  t.same(JSON.parse(events.find((e) => e.event === 'end')?.data ?? '{}'), { reason: 'token_expired' }, 'the stream says why it ends')

  const verify = feedVerifier(t, base)
  await verify.ready()
  // Two token lifetimes later, a revocation still arrives, through a stream opened with a new token.
  await new Promise((resolve) => setTimeout(resolve, 4500))
  const s = await login(base)
  await fetch(`${base}/auth/logout`, { method: 'POST', headers: { authorization: `Bearer ${s.access_token}` } })
  t.equal(await until(verify, s.access_token, 'TOKEN_REVOKED'), 'TOKEN_REVOKED')
  t.equal(ac.snapshots, 1, 'one snapshot: each reconnect resumed')
  t.equal(verify.revocation?.loads, 1)
})

t.test('the feed out of reach: closed mode refuses with REVOCATION_UNAVAILABLE after maxStaleness, open mode keeps the last list; both resume when it is back', async (t) => {
  const port = await freePort()
  const acPort = await freePort()
  const proxy = await startProxy(t, port, acPort)
  await startFeedAuthCenter(t, { issuer: proxy.url, port: acPort })
  const closed = feedVerifier(t, proxy.url, { maxStaleness: 300 })
  const open = feedVerifier(t, proxy.url, { failMode: 'open', maxStaleness: 300 })
  await Promise.all([closed.ready(), open.ready()])
  const s = await login(proxy.url)
  t.equal(await verdict(closed, s.access_token), 'ok')
  t.equal(await verdict(open, s.access_token), 'ok', 'both have the keys before the feed goes away')
  proxy.refuse = true
  proxy.cut()
  t.equal(await until(closed, s.access_token, 'REVOCATION_UNAVAILABLE', 20_000), 'REVOCATION_UNAVAILABLE', 'closed: refused once stale past maxStaleness')
  t.equal(await verdict(open, s.access_token), 'ok', 'open: the last list stays in use')
  t.equal(open.revocation?.fresh, false, 'open mode knows it is stale')
  proxy.refuse = false
  t.equal(await until(closed, s.access_token, 'ok', 10_000), 'ok', 'closed: accepted again once the stream resumed')
  t.equal(closed.revocation?.loads, 1, 'resumed, not reloaded')
})

t.test('a malformed cursor: 401 without a token (authentication comes first), 400 with one', async (t) => {
  const ac = await startFeedAuthCenter(t)
  const base = `http://127.0.0.1:${ac.port}`
  t.equal((await fetch(`${base}/revocations/stream?cursor=bad`)).status, 401)
  const reader = await clientToken(base, DEV_REVOCATION_CLIENT_ID, DEV_REVOCATION_CLIENT_SECRET)
  const bad = await fetch(`${base}/revocations/stream?cursor=bad`, { headers: { authorization: `Bearer ${reader}` } })
  t.equal(bad.status, 400)
  t.equal((await bad.json() as { code: string }).code, 'FST_ERR_VALIDATION')
})
