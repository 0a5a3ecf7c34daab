import t from 'tap'
import { createVerifier, TokenError } from '../src/index.js'
import type { Algorithm } from '../src/index.js'
import { AUDIENCE, b64, claims, craft, joseToken, makeKey, startAuthServer, token, verifierFor } from './helpers.js'

const keys = {
  EdDSA: await makeKey('EdDSA'),
  ES256: await makeKey('ES256'),
  RS256: await makeKey('RS256')
}
const server = await startAuthServer(Object.values(keys).map((k) => k.jwk))
t.teardown(() => server.close())

t.test('verifies EdDSA, ES256 and RS256 tokens signed with jose', async (t) => {
  const verify = verifierFor(t, server)
  for (const key of Object.values(keys)) {
    const auth = await verify(await joseToken(server, key))
    t.equal(auth.sub, 'user-1', key.alg)
  }
})

t.test('verifies every other supported algorithm when it is listed in algorithms', async (t) => {
  const algs: Algorithm[] = ['Ed25519', 'ES384', 'ES512', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512']
  const extra = await Promise.all(algs.map(async (alg) => makeKey(alg)))
  const other = await startAuthServer(extra.map((k) => k.jwk))
  t.teardown(() => other.close())
  const verify = verifierFor(t, other, { algorithms: algs })
  for (const key of extra) {
    t.equal((await verify(await joseToken(other, key))).sub, 'user-1', key.alg)
  }
})

t.test('returns sub, sid, clientId, the scope as an array and every claim', async (t) => {
  const verify = verifierFor(t, server)
  const auth = await verify(token(server, keys.EdDSA, { scope: 'a  b c', extra: { x: 1 } }))
  t.equal(auth.sub, 'user-1')
  t.equal(auth.sid, 'session-1')
  t.equal(auth.clientId, 'app')
  t.same(auth.scope, ['a', 'b', 'c'])
  t.same(auth.claims.extra, { x: 1 })
  t.equal(auth.claims.iss, server.issuer)
})

t.test('gives an empty scope array and no sid or clientId when the token has none', async (t) => {
  const verify = verifierFor(t, server)
  const auth = await verify(token(server, keys.EdDSA, { scope: undefined, sid: undefined, client_id: undefined }))
  t.same(auth.scope, [])
  t.equal(auth.sid, undefined)
  t.equal(auth.clientId, undefined)
})

t.test('is callable and exposes the same function as .verify', async (t) => {
  const verify = verifierFor(t, server)
  t.equal(verify.verify, verify)
  t.equal(typeof verify.close, 'function')
  t.equal((await verify.verify(token(server, keys.ES256))).sub, 'user-1')
})

t.test('accepts aud as an array, and audience given as an array', async (t) => {
  const verify = verifierFor(t, server, { audience: ['other', AUDIENCE] })
  t.ok(await verify(token(server, keys.EdDSA, { aud: ['x', AUDIENCE] })))
  t.ok(await verify(token(server, keys.EdDSA, { aud: 'other' })))
  await t.rejects(verify(token(server, keys.EdDSA, { aud: ['x', 'y'] })), { code: 'TOKEN_INVALID' })
})

t.test('requires every scope asked for, as a string or an array', async (t) => {
  const verify = verifierFor(t, server)
  const tok = token(server, keys.EdDSA, { scope: 'profile:read profile:write' })
  t.ok(await verify(tok, { scope: 'profile:write' }))
  t.ok(await verify(tok, { scope: ['profile:read', 'profile:write'] }))
  t.ok(await verify(tok, { scope: 'profile:read profile:write' }))
  const err = await verify(tok, { scope: ['profile:write', 'admin'] }).catch((e: unknown) => e)
  t.ok(err instanceof TokenError)
  t.match(err, { code: 'INSUFFICIENT_SCOPE', statusCode: 403, name: 'TokenError' })
  await t.rejects(verify(token(server, keys.EdDSA, { scope: undefined }), { scope: 'profile:read' }), { code: 'INSUFFICIENT_SCOPE' })
  await t.rejects(verify(tok, { scope: 1 as unknown as string }), TypeError)
})

t.test('checks the scope only after the token itself is valid', async (t) => {
  const verify = verifierFor(t, server)
  const expired = token(server, keys.EdDSA, { exp: Math.floor(Date.now() / 1000) - 60, scope: undefined })
  await t.rejects(verify(expired, { scope: 'admin' }), { code: 'TOKEN_EXPIRED' })
})

t.test('tolerates clock skew up to clockTolerance, given in seconds or as a string', async (t) => {
  const now = Math.floor(Date.now() / 1000)
  const verify = verifierFor(t, server)
  t.ok(await verify(token(server, keys.EdDSA, { exp: now - 3 })), 'exp 3 s ago passes the default 5 s')
  t.ok(await verify(token(server, keys.EdDSA, { nbf: now + 3, iat: now + 3 })), 'nbf and iat 3 s ahead pass')
  await t.rejects(verify(token(server, keys.EdDSA, { exp: now - 8 })), { code: 'TOKEN_EXPIRED', statusCode: 401 })
  const lenient = verifierFor(t, server, { clockTolerance: '10s' })
  t.ok(await lenient(token(server, keys.EdDSA, { exp: now - 8 })))
  const strict = verifierFor(t, server, { clockTolerance: 0 })
  await t.rejects(strict(token(server, keys.EdDSA, { exp: now - 1 })), { code: 'TOKEN_EXPIRED' })
})

t.test('throws a plain TypeError at the factory for bad options', async (t) => {
  const good = { issuer: server.issuer, audience: AUDIENCE }
  const bad: Array<[string, unknown]> = [
    ['no options', undefined],
    ['no issuer', { audience: AUDIENCE }],
    ['empty audience', { ...good, audience: '' }],
    ['empty audience array', { ...good, audience: [] }],
    ['a RegExp audience', { ...good, audience: /api/ }],
    ['an issuer that is not a URL and no jwksUri', { ...good, issuer: 'auth-center' }],
    ['a non-http jwksUri', { ...good, jwksUri: 'file:///etc/passwd' }],
    ['HS256 in algorithms', { ...good, algorithms: ['HS256'] }],
    ['hs512 in algorithms', { ...good, algorithms: ['EdDSA', 'hs512'] }],
    ['none in algorithms', { ...good, algorithms: ['none'] }],
    ['an unknown algorithm', { ...good, algorithms: ['ES256K'] }],
    ['empty algorithms', { ...good, algorithms: [] }],
    ['a clockTolerance that is not a duration', { ...good, clockTolerance: 'soon' }],
    ['a negative clockTolerance', { ...good, clockTolerance: -1 }],
    ['a zero maxTokenBytes', { ...good, maxTokenBytes: 0 }],
    ['a fetch that is not a function', { ...good, fetch: 'fetch' }],
    ['a negative cooldownDuration', { ...good, cooldownDuration: -5 }],
    ['a string timeoutDuration', { ...good, timeoutDuration: '5s' }]
  ]
  for (const [name, options] of bad) {
    t.throws(() => createVerifier(options as never), TypeError, name)
    try {
      createVerifier(options as never)
    } catch (err) {
      t.notOk(err instanceof TokenError, `${name} is not a TokenError`)
    }
  }
  const hs = (() => { try { createVerifier({ ...good, algorithms: ['HS256' as Algorithm] }) } catch (e) { return e as Error } })()
  t.match(hs?.message, /symmetric/)
  t.doesNotThrow(() => createVerifier({ issuer: 'not-a-url', audience: AUDIENCE, jwksUri: server.jwksUri }).close(), 'any issuer string with a jwksUri')
})

t.test('TokenError carries code, statusCode, name and cause', async (t) => {
  const cause = new Error('root')
  const err = new TokenError('JWKS_UNAVAILABLE', 'down', { cause })
  t.ok(err instanceof Error)
  t.equal(err.code, 'JWKS_UNAVAILABLE')
  t.equal(err.statusCode, 503)
  t.equal(err.name, 'TokenError')
  t.equal(err.cause, cause)
  t.equal(new TokenError('TOKEN_REVOKED', 'x').statusCode, 401)
})

t.test('verifies a token with a cached key without any network request', async (t) => {
  const verify = verifierFor(t, server)
  await verify(token(server, keys.EdDSA))
  const before = [...server.requests.values()].reduce((a, b) => a + b, 0)
  for (let i = 0; i < 200; i++) await verify(token(server, keys.ES256))
  const after = [...server.requests.values()].reduce((a, b) => a + b, 0)
  t.equal(after, before)
})

t.test('claims are read as UTF-8 whether they are ASCII or not (the ASCII fast path changes nothing)', async (t) => {
  const verify = verifierFor(t, server)
  for (const key of Object.values(keys)) {
    for (const name of ['Zoë Ångström', 'emoji \u{1F642}', '\u00ff\u00fe latin1 range', 'plain ascii', 'quote " and \\ backslash']) {
      t.equal((await verify(token(server, key, { name }))).claims.name, name, `${key.alg}: ${name}`)
    }
  }
  // Bytes that are not valid UTF-8 inside a claim: decoded with replacement characters, as JSON.parse of the UTF-8 text would.
  const header = b64(JSON.stringify({ alg: 'EdDSA', typ: 'at+jwt', kid: keys.EdDSA.kid }))
  const json = JSON.stringify(claims(server.issuer, { name: 'XX' }))
  const bytes = Buffer.from(json)
  const at = bytes.indexOf('XX')
  bytes[at] = 0xff
  bytes[at + 1] = 0xc3
  const auth = await verify(craft(header, b64(bytes), keys.EdDSA))
  t.equal(auth.claims.name, '\ufffd\ufffd')
})

t.test('scope lists: split on spaces, empty parts dropped, equal scopes share one frozen array', async (t) => {
  const verify = verifierFor(t, server)
  const a = await verify(token(server, keys.EdDSA, { scope: ' profile:read  profile:write ' }))
  t.same(a.scope, ['profile:read', 'profile:write'])
  const b = await verify(token(server, keys.EdDSA, { scope: ' profile:read  profile:write ' }))
  t.equal(a.scope, b.scope, 'shared')
  t.ok(Object.isFrozen(a.scope))
  t.same((await verify(token(server, keys.EdDSA, { scope: undefined }))).scope, [])
  t.same((await verify(token(server, keys.EdDSA, { scope: '' }))).scope, [])
  await t.rejects(verify(token(server, keys.EdDSA, { scope: ' profile:read  profile:write ' }), { scope: 'admin' }), { code: 'INSUFFICIENT_SCOPE' })
})

t.test('a token longer than the first scratch buffer (16 KiB) verifies when maxTokenBytes allows it', async (t) => {
  const verify = verifierFor(t, server, { maxTokenBytes: 64 * 1024 })
  for (const key of Object.values(keys)) {
    const big = token(server, key, { blob: 'x'.repeat(30_000) })
    t.ok(big.length > 40_000)
    t.equal((await verify(big)).claims.blob, 'x'.repeat(30_000), `${key.alg}: big`)
    t.equal((await verify(token(server, key, { name: 'small' }))).claims.name, 'small', `${key.alg}: small after big`)
    const mid = big.length >> 1
    const tampered = big.slice(0, mid) + (big[mid] === 'A' ? 'B' : 'A') + big.slice(mid + 1)
    await t.rejects(verify(tampered), { code: 'TOKEN_INVALID' }, `${key.alg}: tampered big`)
  }
})
