// Revocation with an in-process feed (the auth center's memory store in the
// same process): the rules of docs/revocation-protocol.md, fail modes before
// the first load, options, and the Fastify answers.
import t from 'tap'
import Fastify from 'fastify'
import { createVerifier, TokenError } from '../src/index.js'
import type { InProcessFeed, VerifierOptions } from '../src/index.js'
import verifierPlugin from '../src/fastify.js'
import { AUDIENCE, makeKey, refuses, startAuthServer, token, verifierDefaults } from './helpers.js'

const key = await makeKey('EdDSA')
const server = await startAuthServer([key.jwk])
t.teardown(() => server.close())

const nowSeconds = (): number => Math.floor(Date.now() / 1000)
const HOUR = 3_600_000

/** A memory feed as the auth center's memory store exposes it. */
class MemoryFeed implements InProcessFeed {
  epoch = `${Date.now() - HOUR}:test`
  readonly entries = new Map<string, string>()
  readonly listeners = new Set<(message: string) => void>()
  /** When set, load() waits for it. */
  gate: Promise<void> | undefined
  loads = 0

  async load (): Promise<{ epoch: string, entries: string[] }> {
    this.loads++
    await this.gate
    return { epoch: this.epoch, entries: [...this.entries].map(([field, value]) => `${field}=${value}`) }
  }

  subscribe (listener: (message: string) => void): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  /** Writes an entry and publishes it (unless `publish: false`). */
  revoke (field: string, { revokedAtMs = Date.now(), ttlMs = 130_000, exceptSid, publish = true }: { revokedAtMs?: number, ttlMs?: number, exceptSid?: string, publish?: boolean } = {}): void {
    const value = `${revokedAtMs}:${revokedAtMs + ttlMs}${exceptSid === undefined ? '' : `:${exceptSid}`}`
    this.entries.set(field, value)
    if (publish) for (const listener of this.listeners) listener(`${field}=${value}`)
  }
}

interface Logged { level: string, obj: Record<string, unknown>, msg: string }
function captureLogger (): { logs: Logged[], logger: { info: (o: Record<string, unknown>, m: string) => void, warn: (o: Record<string, unknown>, m: string) => void, error: (o: Record<string, unknown>, m: string) => void } } {
  const logs: Logged[] = []
  const at = (level: string) => (obj: Record<string, unknown>, msg: string) => { logs.push({ level, obj, msg }) }
  return { logs, logger: { info: at('info'), warn: at('warn'), error: at('error') } }
}

function make (t: { teardown: (fn: () => unknown) => void }, feed: InProcessFeed, revocation: Partial<NonNullable<VerifierOptions['revocation']>> = {}) {
  const { logger, logs } = captureLogger()
  const verify = createVerifier({ ...verifierDefaults, issuer: server.issuer, audience: AUDIENCE, jwksUri: server.jwksUri, revocation: { source: feed, logger, ...revocation } })
  t.teardown(() => verify.close())
  return { verify, logs }
}

t.test('a revoked session is refused at once; others pass', async (t) => {
  const feed = new MemoryFeed()
  feed.revoke('s:loaded-before-start')
  const { verify } = make(t, feed)
  await verify.ready()
  t.equal(verify.revocation?.size, 1)
  t.equal(verify.revocation?.fresh, true)
  t.equal(verify.revocation?.epoch, feed.epoch)
  await refuses(t, verify, token(server, key, { sid: 'loaded-before-start' }), 'TOKEN_REVOKED', 'entry from load()')

  const ok = token(server, key, { sid: 'live' })
  t.equal((await verify(ok)).sid, 'live')
  const seen: string[] = []
  const off = verify.revocation!.onRevocation((field) => seen.push(field))
  feed.revoke('s:live')
  t.same(seen, ['s:live'], 'onRevocation hook')
  off()
  const err = await refuses(t, verify, ok, 'TOKEN_REVOKED', 'published entry, no wait needed in process')
  t.equal(err?.statusCode, 401)
  t.equal((await verify(token(server, key, { sid: 'other' }))).sid, 'other')
})

t.test('user-level revocation: older tokens of any session, compared in milliseconds, exceptSid', async (t) => {
  const feed = new MemoryFeed()
  const { verify } = make(t, feed)
  await verify.ready()
  const second = nowSeconds() - 3
  const revokedAtMs = second * 1000 + 500
  feed.revoke('u:user-7', { revokedAtMs, exceptSid: 'kept' })
  const tok = (iat: number, sid?: string): string => token(server, key, { sub: 'user-7', iat, sid })
  await refuses(t, verify, tok(second - 60, 'never-seen'), 'TOKEN_REVOKED', 'older token of a session never seen')
  await refuses(t, verify, tok(second + 0.499, 'never-seen-2'), 'TOKEN_REVOKED', 'iat 1 ms before the revocation')
  await refuses(t, verify, tok(second + 0.5, 'never-seen-3'), 'TOKEN_REVOKED', 'iat in the millisecond of the revocation (iatMs <= revokedAtMs)')
  t.ok(await verify(tok(second + 0.501, 'new-login')), 'a token issued 1 ms after the revocation passes, in the same second')
  t.ok(await verify(tok(second - 60, 'kept')), 'exceptSid is spared')
  await refuses(t, verify, tok(second - 60, undefined), 'TOKEN_REVOKED', 'a token without sid is not the excepted session')
  t.ok(await verify(token(server, key, { sub: 'user-8', iat: second - 60 })), 'another user is untouched')

  // A newer user revocation replaces the older one, an older message never wins.
  feed.revoke('u:user-7', { revokedAtMs: revokedAtMs + 10_000 })
  await refuses(t, verify, tok(second - 60, 'kept'), 'TOKEN_REVOKED', 'newer entry without exceptSid')
  feed.revoke('u:user-7', { revokedAtMs: revokedAtMs - 100_000, exceptSid: 'kept' })
  await refuses(t, verify, tok(second + 2, 'new-login'), 'TOKEN_REVOKED', 'older message does not shrink the revocation')
})

t.test('the epoch: tokens issued before it are refused', async (t) => {
  const feed = new MemoryFeed()
  const second = nowSeconds() - 10
  feed.epoch = `${second * 1000 + 1}:reset`
  const { verify } = make(t, feed)
  await verify.ready()
  await refuses(t, verify, token(server, key, { iat: second }), 'TOKEN_REVOKED', 'iat * 1000 < epoch createdAt')
  t.ok(await verify(token(server, key, { iat: second + 1 })), 'issued after the epoch')
})

t.test('expired entries are ignored and swept; malformed ones are ignored and logged once', async (t) => {
  const feed = new MemoryFeed()
  feed.revoke('s:expired', { revokedAtMs: Date.now() - 200_000, ttlMs: 100_000 })
  feed.revoke('s:alive')
  feed.entries.set('x:unknown-kind', '1:2')
  feed.entries.set('s:bad-value', 'soon')
  const { verify, logs } = make(t, feed)
  await verify.ready()
  t.equal(verify.revocation?.size, 1, 'only the live entry is kept')
  t.ok(await verify(token(server, key, { sid: 'expired' })), 'an expired entry does not refuse')
  t.equal(logs.filter((l) => /malformed/.test(l.msg)).length, 1, 'malformed entries logged once')
  t.same(logs.find((l) => /malformed/.test(l.msg))?.obj, { count: 2 })
  for (const listener of feed.listeners) listener('garbage')
  for (const listener of feed.listeners) listener('s:no-value=')
  t.equal(logs.filter((l) => /malformed/.test(l.msg)).length, 1, 'not logged again')

  // '=' inside a user id: the first '=' followed by a valid value splits.
  const at = Date.now() - 5000
  for (const listener of feed.listeners) listener(`u:a=b=${at}:${at + 130_000}`)
  await refuses(t, verify, token(server, key, { sub: 'a=b', iat: nowSeconds() - 60 }), 'TOKEN_REVOKED', 'user id with "="')

  // Entries that expire while in memory stop refusing, and the sweep drops them.
  const soon = Date.now()
  feed.revoke('s:short', { revokedAtMs: soon - 1000, ttlMs: 1500 })
  await refuses(t, verify, token(server, key, { sid: 'short' }), 'TOKEN_REVOKED', 'before its expiry')
  await new Promise((resolve) => setTimeout(resolve, 1700))
  t.ok(await verify(token(server, key, { sid: 'short' })), 'after its expiry (rounded up to the second)')
})

t.test('messages that arrive while the list loads are applied after the swap', async (t) => {
  const feed = new MemoryFeed()
  let open!: () => void
  feed.gate = new Promise((resolve) => { open = resolve })
  const { verify } = make(t, feed)
  await new Promise((resolve) => setImmediate(resolve))
  t.equal(feed.listeners.size, 1, 'subscribed before loading')
  feed.revoke('s:during-load') // published while load() is still running
  feed.entries.delete('s:during-load') // prove the buffer, not the snapshot, carries it
  open()
  await verify.ready()
  await refuses(t, verify, token(server, key, { sid: 'during-load' }), 'TOKEN_REVOKED', 'buffered message')
})

t.test('before the first load: closed waits at most maxStaleness then answers REVOCATION_UNAVAILABLE; open accepts', async (t) => {
  const never = new MemoryFeed()
  never.gate = new Promise(() => {})
  // A window long enough that "waited for it" and "did not wait again" stay apart on a loaded machine.
  const closed = make(t, never, { maxStaleness: 1000 })
  const started = Date.now()
  await refuses(t, closed.verify, token(server, key), 'REVOCATION_UNAVAILABLE', 'closed, never loaded')
  const waited = Date.now() - started
  t.ok(waited >= 950 && waited < 10_000, `waited ${waited} ms, bounded by maxStaleness`)
  const again = Date.now()
  const err = await refuses(t, closed.verify, token(server, key), 'REVOCATION_UNAVAILABLE', 'after the window: at once')
  t.ok(Date.now() - again < 500, 'no second wait after the window')
  t.equal(err?.statusCode, 503)
  t.ok(closed.logs.some((l) => l.level === 'error' && /failing closed/.test(l.msg)), 'fail closed is logged')
  await refuses(t, closed.verify, 'not-a-token', 'TOKEN_MALFORMED', 'other refusals are unchanged')

  const open = make(t, never, { failMode: 'open' })
  t.ok(await open.verify(token(server, key)), 'open: accepted without a list')

  const slow = new MemoryFeed()
  let release!: () => void
  slow.gate = new Promise((resolve) => { release = resolve })
  slow.revoke('s:slow', { publish: false })
  const waiting = make(t, slow, { maxStaleness: 5000 })
  setTimeout(release, 50)
  await refuses(t, waiting.verify, token(server, key, { sid: 'slow' }), 'TOKEN_REVOKED', 'a request during the first load waits for it')
  t.ok(await waiting.verify(token(server, key)))
})

t.test('a failing load() is retried', async (t) => {
  const feed = new MemoryFeed()
  let fail = 2
  const flaky: InProcessFeed = {
    load: async () => { if (fail-- > 0) throw new Error('not yet'); return feed.load() },
    subscribe: (listener) => feed.subscribe(listener)
  }
  feed.revoke('s:x')
  const { verify, logs } = make(t, flaky)
  await verify.ready()
  t.equal(verify.revocation?.size, 1)
  t.equal(logs.filter((l) => /following the feed failed/.test(l.msg)).length, 2)
  t.equal(feed.listeners.size, 1, 'subscribed once')
})

t.test('close() unsubscribes, stops timers, and rejects a pending ready()', async (t) => {
  const feed = new MemoryFeed()
  feed.gate = new Promise(() => {})
  const verify = createVerifier({ ...verifierDefaults, issuer: server.issuer, audience: AUDIENCE, jwksUri: server.jwksUri, revocation: { source: feed, logger: captureLogger().logger } })
  const ready = verify.ready()
  await new Promise((resolve) => setImmediate(resolve))
  t.equal(feed.listeners.size, 1)
  await verify.close()
  t.equal(feed.listeners.size, 0, 'unsubscribed')
  await t.rejects(ready, /closed before the revocation list was loaded/)
})

t.test('without the option: ready() resolves, revocation is undefined', async (t) => {
  const verify = createVerifier({ ...verifierDefaults, issuer: server.issuer, audience: AUDIENCE, jwksUri: server.jwksUri })
  t.teardown(() => verify.close())
  await verify.ready()
  t.equal(verify.revocation, undefined)
})

t.test('bad revocation options are a TypeError at the factory', async (t) => {
  const feed = new MemoryFeed()
  const base = { ...verifierDefaults, issuer: server.issuer, audience: AUDIENCE, jwksUri: server.jwksUri }
  const bad: Array<[string, unknown]> = [
    ['not an object', 'redis://localhost'],
    ['null', null],
    ['neither redis nor source', {}],
    ['both', { redis: 'redis://localhost', source: feed }],
    ['http URL', { redis: 'http://localhost:6379' }],
    ['not a URL', { redis: 'localhost:6379' }],
    ['client without methods', { redis: {} }],
    ['client is a number', { redis: 6379 }],
    ['source without subscribe', { source: { load: feed.load } }],
    ['prefix not a string', { source: feed, prefix: 1 }],
    ['failMode', { source: feed, failMode: 'half-open' }],
    ['maxStaleness negative', { source: feed, maxStaleness: -1 }],
    ['maxStaleness string', { source: feed, maxStaleness: '30s' }],
    ['maxStaleness NaN', { source: feed, maxStaleness: NaN }],
    ['epochCheckInterval 0', { redis: 'redis://localhost', epochCheckInterval: 0 }],
    ['logger without error', { source: feed, logger: { info () {}, warn () {} } }]
  ]
  for (const [name, revocation] of bad) {
    t.throws(() => createVerifier({ ...base, revocation } as never), TypeError, name)
  }
  t.equal(feed.listeners.size, 0, 'nothing subscribed by a refused factory call')
})

t.test('Fastify: TOKEN_REVOKED is a 401 invalid_token, REVOCATION_UNAVAILABLE a 503 with Retry-After', async (t) => {
  const feed = new MemoryFeed()
  feed.revoke('s:gone')
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(verifierPlugin, { ...verifierDefaults, issuer: server.issuer, audience: AUDIENCE, jwksUri: server.jwksUri, revocation: { source: feed, logger: captureLogger().logger } })
  app.get('/me', { onRequest: app.authenticate() }, async (request) => ({ sub: request.auth.sub }))
  await app.ready()

  const revoked = await app.inject({ url: '/me', headers: { authorization: `Bearer ${token(server, key, { sid: 'gone' })}` } })
  t.equal(revoked.statusCode, 401)
  t.equal(revoked.json().code, 'TOKEN_REVOKED')
  t.match(revoked.headers['www-authenticate'], /error="invalid_token"/)
  const fine = await app.inject({ url: '/me', headers: { authorization: `Bearer ${token(server, key, { sid: 'here' })}` } })
  t.equal(fine.statusCode, 200)

  const never = new MemoryFeed()
  never.gate = new Promise(() => {})
  const app2 = Fastify()
  t.teardown(() => app2.close())
  await app2.register(verifierPlugin, { ...verifierDefaults, issuer: server.issuer, audience: AUDIENCE, jwksUri: server.jwksUri, revocation: { source: never, maxStaleness: 0, logger: captureLogger().logger } })
  app2.get('/me', { onRequest: app2.authenticate() }, async () => ({}))
  const unavailable = await app2.inject({ url: '/me', headers: { authorization: `Bearer ${token(server, key)}` } })
  t.equal(unavailable.statusCode, 503)
  t.same(unavailable.json(), { statusCode: 503, code: 'REVOCATION_UNAVAILABLE', error: 'Service Unavailable', message: 'the revocation list is unavailable' })
  t.equal(unavailable.headers['retry-after'], '1')
  t.equal(unavailable.headers['www-authenticate'], undefined, 'not the client\'s fault: no challenge')
})

t.test('Fastify: revocation logs go to app.log unless a logger is given', async (t) => {
  const lines: string[] = []
  const app = Fastify({ logger: { level: 'info', stream: { write: (line: string) => { lines.push(line) } } } })
  t.teardown(() => app.close())
  const feed = new MemoryFeed()
  await app.register(verifierPlugin, { ...verifierDefaults, issuer: server.issuer, audience: AUDIENCE, jwksUri: server.jwksUri, revocation: { source: feed } })
  app.get('/me', { onRequest: app.authenticate() }, async () => ({}))
  const ok = await app.inject({ url: '/me', headers: { authorization: `Bearer ${token(server, key)}` } })
  t.equal(ok.statusCode, 200)
  t.ok(lines.some((line) => /denylist loaded/.test(line)), 'logged through app.log')
})

t.test('TokenError codes', async (t) => {
  t.equal(new TokenError('REVOCATION_UNAVAILABLE', 'x').statusCode, 503)
  t.equal(new TokenError('TOKEN_REVOKED', 'x').statusCode, 401)
})
