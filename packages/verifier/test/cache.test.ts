// The verified-token cache: what a hit still checks (exp, revocation, DPoP and
// fingerprint binding, scope, the key set), what is never served from it, its
// bound, and the canonical signature encoding that replaced the regex checks.
import t from 'tap'
import { createHash, randomUUID } from 'node:crypto'
import { SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose'
import { createVerifier, TokenError } from '../src/index.js'
import type { InProcessFeed } from '../src/index.js'
import { AUDIENCE, makeKey, refuses, startAuthServer, token } from './helpers.js'

const ed = await makeKey('EdDSA')
const rsa = await makeKey('RS256')
const server = await startAuthServer([ed.jwk, rsa.jwk])
t.teardown(() => server.close())

const seconds = (): number => Math.floor(Date.now() / 1000)

function cachedVerifier (t: { teardown: (fn: () => unknown) => void }, options: Record<string, unknown> = {}): ReturnType<typeof createVerifier> {
  const verify = createVerifier({ issuer: server.issuer, audience: AUDIENCE, ...options })
  t.teardown(() => verify.close())
  return verify
}

/** Runs `fn` with Date.now() moved by `ms`. */
async function later<T> (ms: number, fn: () => Promise<T>): Promise<T> {
  const real = Date.now
  Date.now = () => real() + ms
  try {
    return await fn()
  } finally {
    Date.now = real
  }
}

t.test('on by default with 10,000 entries; a hit returns the same frozen Auth', async (t) => {
  const verify = cachedVerifier(t)
  t.equal(verify.cache?.max, 10_000)
  const tok = token(server, ed)
  const auth = await verify(tok)
  t.equal(verify.cache?.size, 1)
  t.equal(await verify(tok), auth, 'served from the cache')
  t.equal(await verify(`${tok}`.slice(0) + ''), auth, 'an equal string from elsewhere')
  t.ok(Object.isFrozen(auth) && Object.isFrozen(auth.scope) && Object.isFrozen(auth.claims))
  t.throws(() => { auth.scope.push('admin') }, TypeError, 'no caller can add a scope for the next one')
  t.throws(() => { (auth.claims as Record<string, unknown>).exp = 1e12 }, TypeError)
  await refuses(t, verify, tok.slice(0, -1), 'TOKEN_INVALID', 'the next call still checks what it gets')
  verify.cache?.clear()
  t.equal(verify.cache?.size, 0)
  t.not(await verify(tok), auth, 'verified again after clear()')
})

t.test('an expired cached token is refused with TOKEN_EXPIRED', async (t) => {
  const verify = cachedVerifier(t, { clockTolerance: 0 })
  const tok = token(server, ed, { exp: seconds() + 2 })
  await verify(tok)
  t.equal(verify.cache?.size, 1)
  await later(3000, async () => refuses(t, verify, tok, 'TOKEN_EXPIRED', 'past exp, although cached'))
  t.equal(verify.cache?.size, 0, 'the entry is dropped')
  // Within the clock tolerance the token is accepted by full verification, and not cached.
  const tolerant = cachedVerifier(t, { clockTolerance: 10 })
  await tolerant(tok)
  await later(3000, async () => {
    t.ok(await tolerant(tok), 'accepted within the tolerance')
    t.equal(tolerant.cache?.size, 0, 'past exp: not cached')
  })
})

t.test('a cached token is refused once its session is revoked', async (t) => {
  const listeners = new Set<(message: string) => void>()
  const source: InProcessFeed = {
    load: async () => ({ epoch: `${Date.now() - 3_600_000}:test`, entries: [] }),
    subscribe: (listener) => { listeners.add(listener); return () => { listeners.delete(listener) } }
  }
  const verify = cachedVerifier(t, { revocation: { source, logger: { info () {}, warn () {}, error () {} } } })
  await verify.ready()
  const tok = token(server, ed, { sid: 'session-r', sub: 'user-r' })
  await verify(tok)
  await verify(tok)
  t.equal(verify.cache?.size, 1)
  for (const listener of listeners) listener(`s:session-r=${Date.now()}:${Date.now() + 130_000}`)
  await refuses(t, verify, tok, 'TOKEN_REVOKED', 'revoked after it was cached')
  const other = token(server, ed, { sid: 'session-s', sub: 'user-s' })
  await verify(other)
  for (const listener of listeners) listener(`u:user-s=${Date.now()}:${Date.now() + 130_000}`)
  await refuses(t, verify, other, 'TOKEN_REVOKED', 'user revoked after it was cached')
})

t.test('a cached DPoP-bound token still needs a fresh proof on every call', async (t) => {
  const verify = cachedVerifier(t)
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true })
  const jwk = await exportJWK(publicKey)
  const jkt = await calculateJwkThumbprint(jwk, 'sha256')
  const tok = token(server, ed, { cnf: { jkt } })
  const proof = async (): Promise<string> => new SignJWT({ jti: randomUUID(), htm: 'GET', htu: 'https://x.test/a', iat: seconds(), ath: createHash('sha256').update(tok).digest('base64url') })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk }).sign(privateKey)
  const first = await proof()
  const request = (p: string | undefined): { scheme: string, dpop: { proof: string | undefined, method: string, url: string } } => ({ scheme: 'DPoP', dpop: { proof: p, method: 'GET', url: 'https://x.test/a' } })
  const auth = await verify(tok, request(first))
  t.equal(verify.cache?.size, 1)
  await t.rejects(verify(tok), new TokenError('INVALID_DPOP_PROOF', 'a DPoP-bound token needs a DPoP proof'), 'no proof')
  await t.rejects(verify(tok, { scheme: 'Bearer' }), { code: 'INVALID_DPOP_PROOF' }, 'Bearer scheme')
  await t.rejects(verify(tok, request(undefined)), { code: 'INVALID_DPOP_PROOF' }, 'empty proof')
  await t.rejects(verify(tok, request(first)), { code: 'INVALID_DPOP_PROOF' }, 'replayed proof')
  t.equal(await verify(tok, request(await proof())), auth, 'a new proof, served from the cache')
})

t.test('a cached fingerprint-bound token still needs its cookie', async (t) => {
  const verify = cachedVerifier(t)
  const fingerprint = 'f'.repeat(43)
  const tok = token(server, ed, { cnf: { fgp: createHash('sha256').update(fingerprint).digest('base64url') } })
  const auth = await verify(tok, { fingerprint })
  await t.rejects(verify(tok), { code: 'TOKEN_BINDING_MISMATCH' }, 'no cookie')
  await t.rejects(verify(tok, { fingerprint: 'g'.repeat(43) }), { code: 'TOKEN_BINDING_MISMATCH' }, 'another cookie')
  await t.rejects(verify(tok, { scheme: 'DPoP', fingerprint }), { code: 'INVALID_DPOP_PROOF' }, 'DPoP scheme')
  t.equal(await verify(tok, { fingerprint }), auth)
})

t.test('scopes are checked on every call', async (t) => {
  const verify = cachedVerifier(t)
  const tok = token(server, ed, { scope: 'profile:read' })
  await verify(tok)
  await t.rejects(verify(tok, { scope: 'admin' }), { code: 'INSUFFICIENT_SCOPE' })
  await t.rejects(verify(tok, { scope: ['profile:read', 'admin'] }), { code: 'INSUFFICIENT_SCOPE' })
  const frozen = Object.freeze(['admin'])
  await t.rejects(verify(tok, { scope: frozen }), { code: 'INSUFFICIENT_SCOPE' }, 'frozen array (as the plugin passes)')
  await t.rejects(verify(tok, { scope: frozen }), { code: 'INSUFFICIENT_SCOPE' }, 'frozen array, again')
  t.ok(await verify(tok, { scope: Object.freeze(['profile:read']) }))
  await t.rejects(verify(tok, { scope: Object.freeze([1]) as never }), TypeError)
})

t.test('a token that differs in any character is not served from the cache', async (t) => {
  for (const key of [ed, rsa]) {
    const verify = cachedVerifier(t)
    const tok = token(server, key)
    const auth = await verify(tok)
    const dot = tok.lastIndexOf('.')
    const flip = (i: number): string => tok.slice(0, i) + (tok[i] === 'A' ? 'B' : 'A') + tok.slice(i + 1)
    for (const [name, i] of [['first signature char', dot + 1], ['middle signature char', dot + 20], ['last 32 chars', tok.length - 20], ['last char', tok.length - 1]] as const) {
      const err = await verify(flip(i)).then(() => undefined, (e: unknown) => e)
      t.ok(err instanceof TokenError && (err.code === 'TOKEN_INVALID' || err.code === 'TOKEN_MALFORMED'), `${key.alg}: ${name}`, { got: String(err) })
    }
    // The same signature under another payload: the cache index (the end of the
    // signature) matches, the token does not.
    const other = token(server, key, { sub: 'admin' })
    const forged = other.slice(0, other.lastIndexOf('.')) + tok.slice(dot)
    await refuses(t, verify, forged, 'TOKEN_INVALID', `${key.alg}: another payload with the cached signature`)
    t.equal(await verify(tok), auth, 'the cached entry is intact')
    t.equal(verify.cache?.size, 1, 'nothing refused was cached')
  }
})

t.test('the cache never exceeds max, and evicts the least recently used', async (t) => {
  const verify = cachedVerifier(t, { cache: { max: 3 } })
  const toks = Array.from({ length: 10 }, (_, i) => token(server, ed, { sub: `user-${i}` }))
  const auths = []
  for (const tok of toks) {
    auths.push(await verify(tok))
    t.ok(verify.cache!.size <= 3)
  }
  t.equal(verify.cache?.size, 3)
  // Cached now: 7, 8, 9. Using 7 makes 8 the oldest.
  t.equal(await verify(toks[7]), auths[7], 'hit')
  await verify(toks[0])
  t.equal(verify.cache?.size, 3)
  t.equal(await verify(toks[7]), auths[7], 'recently used: kept')
  t.equal(await verify(toks[9]), auths[9], 'kept')
  t.not(await verify(toks[8]), auths[8], 'least recently used: evicted, verified again')
})

t.test('a key removed from the JWKS stops verifying cached tokens once the set is refetched', async (t) => {
  const own = await startAuthServer([ed.jwk, rsa.jwk])
  t.teardown(() => own.close())
  const verify = createVerifier({ issuer: own.issuer, audience: AUDIENCE, cooldownDuration: 0 })
  t.teardown(() => verify.close())
  const tok = token(own, ed)
  const auth = await verify(tok)
  t.equal(await verify(tok), auth)
  own.keys = [rsa.jwk]
  const stranger = await makeKey('EdDSA')
  await refuses(t, verify, token(own, stranger), 'TOKEN_INVALID', 'an unknown kid refetches the set')
  await refuses(t, verify, tok, 'TOKEN_INVALID', 'the cached token of the removed key')
})

t.test('cache: false turns it off; bad cache options are a TypeError', async (t) => {
  const verify = cachedVerifier(t, { cache: false })
  t.equal(verify.cache, undefined)
  const tok = token(server, ed)
  t.not(await verify(tok), await verify(tok))
  for (const cache of [{ max: 0 }, { max: -1 }, { max: 1.5 }, { max: '10' }, 'yes', 1, null, []]) {
    t.throws(() => createVerifier({ issuer: server.issuer, audience: AUDIENCE, cache } as never), TypeError, JSON.stringify(cache))
  }
  t.ok(createVerifier({ issuer: server.issuer, audience: AUDIENCE, cache: true }).cache)
})

t.test('the signature must be the one canonical base64url encoding (the checks that replaced the regex)', async (t) => {
  for (const key of [ed, rsa]) {
    const verify = cachedVerifier(t, { cache: false })
    // A signature with '-' or '_' in it (Buffer decodes '+' and '/' to the same bytes).
    let tok = token(server, key)
    while (!/[-_]/.test(tok.slice(tok.lastIndexOf('.') + 1))) tok = token(server, key)
    await verify(tok)
    const dot = tok.lastIndexOf('.')
    const sig = tok.slice(dot + 1)
    const head = tok.slice(0, dot + 1)
    const spareBits = (key.alg === 'EdDSA' ? 64 : 256) % 3 === 1 ? 4 : 2
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
    const last = alphabet.indexOf(sig.at(-1)!)
    const variants: Record<string, string> = {
      'standard alphabet (+ /)': head + sig.replace(/-/g, '+').replace(/_/g, '/'),
      'spare bits set in the last character': head + sig.slice(0, -1) + alphabet[last | 1]!,
      'padding': `${tok}==`,
      'a junk character in place of one': head + sig.slice(0, 10) + '*' + sig.slice(11),
      'a space in place of one': head + sig.slice(0, 10) + ' ' + sig.slice(11),
      'a character above U+00FF aliasing one': head + sig.slice(0, 10) + String.fromCharCode(0x100 + sig.charCodeAt(10)) + sig.slice(11),
      'one character short': tok.slice(0, -1),
      'one character long': `${tok}A`,
      'empty': head
    }
    t.equal(spareBits > 0, true)
    for (const [name, variant] of Object.entries(variants)) {
      t.not(variant, tok)
      const err = await verify(variant).then(() => undefined, (e: unknown) => e)
      t.ok(err instanceof TokenError && (err.code === 'TOKEN_INVALID' || err.code === 'TOKEN_MALFORMED'), `${key.alg}: ${name}`, { got: String(err) })
    }
    // The payload: a character above U+00FF whose low byte is the signed one must not
    // pass as that byte (latin1 would truncate it), nor be skipped by the decoder.
    const dot1 = tok.indexOf('.')
    const aliased = tok.slice(0, dot1 + 5) + String.fromCharCode(0x100 + tok.charCodeAt(dot1 + 5)) + tok.slice(dot1 + 6)
    await refuses(t, verify, aliased, 'TOKEN_MALFORMED', `${key.alg}: payload character above U+00FF`)
    await refuses(t, verify, tok.slice(0, dot1 + 5) + '*' + tok.slice(dot1 + 6), 'TOKEN_MALFORMED', `${key.alg}: payload junk character`)
  }
})

t.test('TokenCache: tokens with the same index take turns; LRU order holds through hits, replacements and expiry', async (t) => {
  const { TokenCache } = await import('../src/cache.js')
  const keys = {}
  const auth = (sub: string): never => ({ sub }) as never
  const cache = new TokenCache(3)
  // The index is read from the end of the signature: these two differ only before it.
  const a = 'header.payload-a.' + 'S'.repeat(86)
  const b = 'header.payload-b.' + 'S'.repeat(86)
  cache.set(a, auth('a'), 2e9, keys)
  t.same(cache.get(a, keys, 1), { sub: 'a' })
  t.equal(cache.get(b, keys, 1), undefined, 'same index, another token: a miss')
  cache.set(b, auth('b'), 2e9, keys)
  t.equal(cache.size, 1, 'replaced in place')
  t.equal(cache.get(a, keys, 1), undefined, 'the replaced token is gone')
  t.same(cache.get(b, keys, 1), { sub: 'b' })
  const tok = (i: number): string => `h.p.${'T'.repeat(80)}${String(i).padStart(6, '0')}A` // the last character is not part of the index
  for (let i = 0; i < 3; i++) cache.set(tok(i), auth(`t${i}`), 2e9, keys)
  t.equal(cache.size, 3)
  t.equal(cache.get(b, keys, 1), undefined, 'b was the oldest: evicted')
  t.same(cache.get(tok(0), keys, 1), { sub: 't0' }, 'hit makes t0 the newest')
  cache.set(tok(3), auth('t3'), 2e9, keys)
  t.equal(cache.get(tok(1), keys, 1), undefined, 't1 evicted, not t0')
  t.same(cache.get(tok(0), keys, 1), { sub: 't0' })
  t.equal(cache.get(tok(2), keys, 2e9), undefined, 'at exp: dropped')
  t.equal(cache.size, 2)
  t.equal(cache.get(tok(3), {}, 1), undefined, 'another key set: dropped')
  t.equal(cache.size, 1)
  for (let i = 10; i < 1000; i++) {
    cache.set(tok(i), auth(`t${i}`), 2e9, keys)
    t.ok(cache.size <= 3)
  }
  t.same(cache.get(tok(999), keys, 1), { sub: 't999' })
  cache.clear()
  t.equal(cache.size, 0)
  t.equal(cache.get(tok(999), keys, 1), undefined)
})
